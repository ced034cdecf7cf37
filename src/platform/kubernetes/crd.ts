/**
 * The CustomResourceDefinitions of MySQLCluster and BackupPolicy (moco.cybozu.com/v1beta2): structural schemas
 * with the CRD-level rules (types, defaults, minimums, enums), the status subresource and the seed's printer
 * columns. The rules beyond a schema are the webhooks' (src/api). Where a field embeds a Kubernetes type (the Pod
 * template's spec, claim and Service specs, job environments), the schema keeps the unknown fields instead of
 * pruning them, so that the validating webhook sees a misspelled field and refuses it with a suggestion (the API
 * server would otherwise drop it silently). `npm run gen:crds` writes config/crd/bases from here; a unit test keeps
 * both and src/api's field lists in step.
 */
import { SPEC_FIELDS } from '../../api/mysqlcluster.ts';
import { API_GROUP } from './names.ts';
import type { Json, KubeObject } from './objects.ts';

const str = (extra: Json = {}): Json => ({ type: 'string', ...extra });
const int = (extra: Json = {}): Json => ({ type: 'integer', ...extra });
const bool = (extra: Json = {}): Json => ({ type: 'boolean', ...extra });
const obj = (properties: Record<string, Json>, extra: Json = {}): Json => ({ type: 'object', properties, ...extra });
const list = (items: Json, extra: Json = {}): Json => ({ type: 'array', items, ...extra });
/** An embedded Kubernetes type: kept as written, checked by the webhook. */
const kube = (description: string): Json => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
const strMap = (): Json => ({ type: 'object', additionalProperties: { type: 'string' } });
const quantity = (): Json => ({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });

const objectMeta = obj({ name: str(), labels: strMap(), annotations: strMap() });

const jobConfig = obj({
  serviceAccountName: str({ minLength: 1 }),
  bucketConfig: obj({
    bucketName: str({ minLength: 1 }), region: str(), endpointURL: str(), usePathStyle: bool(),
    backendType: str({ enum: ['s3', 'gcs', 'azure', 'file'] }), caCert: str(),
  }, { required: ['bucketName'] }),
  workVolume: kube('a volume source (emptyDir, ephemeral, persistentVolumeClaim, ...) for temporary files'),
  threads: int({ minimum: 1, default: 4 }),
  cpu: quantity(), maxCpu: quantity(), memory: quantity(), maxMemory: quantity(),
  envFrom: list(kube('an EnvFromSource')), env: list(kube('an EnvVar')),
  affinity: kube('an Affinity'),
  volumes: list(kube('a Volume')), volumeMounts: list(kube('a VolumeMount')),
}, { required: ['serviceAccountName', 'bucketConfig', 'workVolume'] });

const clusterSpec = obj({
  replicas: int({ default: 1, format: 'int32' }),
  podTemplate: obj({
    metadata: objectMeta,
    spec: kube('a PodSpec; it must have a container named mysqld'),
    overwriteContainers: list(obj({
      name: str({ enum: ['agent', 'copy-moco-init', 'moco-init', 'slow-log', 'mysqld-exporter'] }),
      resources: kube('ResourceRequirements'), securityContext: kube('a SecurityContext'),
    }, { required: ['name'] })),
  }, { required: ['spec'] }),
  volumeClaimTemplates: list(obj({ metadata: objectMeta, spec: kube('a PersistentVolumeClaimSpec') }, { required: ['metadata', 'spec'] }), { minItems: 1 }),
  primaryServiceTemplate: obj({ metadata: objectMeta, spec: kube('a ServiceSpec') }),
  replicaServiceTemplate: obj({ metadata: objectMeta, spec: kube('a ServiceSpec') }),
  mysqlConfigMapName: str({ nullable: true }),
  replicationSourceSecretName: str({ nullable: true }),
  collectors: list(str()),
  serverIDBase: int({ format: 'int32' }),
  maxDelaySeconds: int({ default: 60, minimum: 0 }),
  maxDelaySecondsForPodDeletion: int({ default: 0, minimum: 0, format: 'int64' }),
  startupWaitSeconds: int({ default: 3600, minimum: 0, format: 'int32' }),
  logRotationSchedule: str(),
  logRotationSize: int({ minimum: 0, format: 'int64' }),
  backupPolicyName: str({ nullable: true }),
  restore: obj({
    sourceName: str({ minLength: 1 }), sourceNamespace: str({ minLength: 1 }), restorePoint: str({ format: 'date-time' }),
    jobConfig, schema: str(), users: str(),
  }, { required: ['sourceName', 'sourceNamespace', 'restorePoint', 'jobConfig'] }),
  disableSlowQueryLogContainer: bool(),
  slowQueryLogConfigTmpl: str(),
  agentUseLocalhost: bool(),
  initializeTimezoneData: bool(),
  offline: bool(),
}, { required: ['podTemplate', 'volumeClaimTemplates'] });

const condition = (type: string): string => `.status.conditions[?(@.type=='${type}')].status`;

const crd = (kind: string, plural: string, singular: string, spec: Json, columns: Json[], shortNames: string[] = []): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${API_GROUP}` },
  spec: {
    group: API_GROUP,
    names: { kind, listKind: `${kind}List`, plural, singular, ...(shortNames.length ? { shortNames } : {}) },
    scope: 'Namespaced',
    versions: [{
      name: 'v1beta2', served: true, storage: true,
      subresources: { status: {} },
      additionalPrinterColumns: columns,
      schema: {
        openAPIV3Schema: obj({
          apiVersion: str(), kind: str(), metadata: { type: 'object' }, spec,
          status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        }, { required: ['spec'] }),
      },
    }],
  },
});

/** The MySQLCluster CRD, with the seed's columns (kubectl get mysqlcluster). */
export function mysqlClusterCrd(): KubeObject {
  return crd('MySQLCluster', 'mysqlclusters', 'mysqlcluster', clusterSpec, [
    { name: 'Available', type: 'string', jsonPath: condition('Available') },
    { name: 'Healthy', type: 'string', jsonPath: condition('Healthy') },
    { name: 'Primary', type: 'integer', jsonPath: '.status.currentPrimaryIndex' },
    { name: 'Synced replicas', type: 'integer', jsonPath: '.status.syncedReplicas' },
    { name: 'Errant replicas', type: 'integer', jsonPath: '.status.errantReplicas' },
    { name: 'Clustering Active', type: 'string', jsonPath: condition('ClusteringActive') },
    { name: 'Reconcile Active', type: 'string', jsonPath: condition('ReconciliationActive') },
    { name: 'Last backup', type: 'string', jsonPath: '.status.backup.time' },
  ]);
}

/** The BackupPolicy CRD. */
export function backupPolicyCrd(): KubeObject {
  return crd('BackupPolicy', 'backuppolicies', 'backuppolicy', obj({
    schedule: str({ minLength: 1 }),
    timeZone: str(),
    jobConfig,
    startingDeadlineSeconds: int({ minimum: 0, format: 'int64' }),
    concurrencyPolicy: str({ enum: ['Allow', 'Forbid', 'Replace'], default: 'Allow' }),
    activeDeadlineSeconds: int({ minimum: 0, format: 'int64' }),
    backoffLimit: int({ minimum: 0, format: 'int32' }),
    successfulJobsHistoryLimit: int({ minimum: 0, format: 'int32' }),
    failedJobsHistoryLimit: int({ minimum: 0, format: 'int32' }),
  }, { required: ['schedule', 'jobConfig'] }), []);
}

/** The spec fields the MySQLCluster schema declares (the test compares them with src/api's). */
export function schemaSpecFields(): string[] {
  return Object.keys((clusterSpec as { properties: Json }).properties);
}

export { SPEC_FIELDS };
