/**
 * The StatefulSet of a cluster, as a pure builder: the user's Pod template (the `mysqld` container and anything
 * else they add) merged with what every instance needs (the agent sidecar, the init containers, the shared
 * volumes, the probes). The seed system's shape, with this project's differences: the mysqld container runs
 * `moco-run-mysqld.sh` (a POSIX script the agent image provides: it swaps in a cloned or restored data directory,
 * then execs mysqld), and the init container writes my.cnf and initializes the data directory with a shell script,
 * so the mysqld image needs no Node and no agent code.
 */
import type { ClusterSpec } from '../../api/spec.ts';
import { POD_PATHS, PORTS } from './config.ts';
import { baseLabels, names } from './names.ts';
import { asJson, asList, type Json, type KubeObject, type OwnerRef } from './objects.ts';

/** What the builder needs besides the cluster. */
export interface StatefulSetOptions {
  /** The agent image (also runs the init container that copies the scripts). */
  agentImage: string;
  /** The my.cnf ConfigMap's name (a hash of its content: a change rolls the Pods). */
  myCnfConfigMap: string;
  /** The partition to hold (day one: `replicas`, so a template change rolls nothing by itself). */
  partition?: number;
}

/**
 * The agent container's resources, requests equal to limits (the Pod stays Guaranteed when mysqld is; a cluster can
 * override them with `overwriteContainers`). Measured with `npm run bench:agent-resources` (docs/benchmarks.md: a
 * local MariaDB 10.11 cluster, a 659 MB data directory, on Node 20 and on the image's Node 22; MiB), for the agent
 * and the tools it runs in this container (mariadb-backup, mbstream, zstd):
 *
 *   idle, a minute after start   RSS 84-90, CPU 38-56m
 *   clone, donor / recipient     agent peak (VmHWM) 124-147 / 106-125, with the tools up to 207; CPU up to 0.87 core
 *   backup to S3                 agent peak 265-271, with the tools up to 345; CPU up to 1.16 core over a second
 *
 * Memory: 512Mi, about 1.45 times the highest figure of all runs (351: the backup of 2.7 times the data; its 32 MiB
 * multipart parts, three uploading, are held in the agent). The peaks come from fixed buffers: with 2.7 times the
 * data they grew by 7-15. Going over the limit kills the container, so the margin is for what was not measured: a
 * restore (download, zstd -d, mbstream, then mariadb-backup --prepare with its 100 MB default buffer pool), a prepare
 * with much redo to apply after a clone, more status traffic. MySQL backups of more than about 280 GiB use parts
 * above 32 MiB (partSizeFor), and the measured backup peak was about six parts over idle: such clusters need more.
 * CPU: half a core. Going over only slows the agent down (throttling), never kills it, so this is a trade rather than a
 * margin, and requests equal limits: whatever is chosen is reserved per instance, for an agent that idles at about
 * a tenth of it. Half a core is about the average of a backup with its tools (7.5-10.3 s of CPU in 10.8-16.1 s,
 * 0.55-0.88 core), so a backup takes up to about 1.8 times as long as unthrottled; a clone, from reinit until Healthy,
 * 0.15-0.3 core on average (0.87 in its busiest second). One core would cover nearly every measured second, at twice
 * the reservation, and no longer fits the test bed's 5-instance cluster (two Pods on a 2-core node:
 * test/kube/scale.test.ts). Measured on a loaded 2-core machine: with free cores the tools (zstd -T2, mariadb-backup
 * --parallel=2) use more.
 */
export const AGENT_RESOURCES = { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '500m', memory: '512Mi' } };
const INIT_RESOURCES = { requests: { cpu: '100m', memory: '512Mi' }, limits: { cpu: '100m', memory: '512Mi' } };
export const DEFAULT_GRACE_SECONDS = 300;
const UID = 10000;

const vol = {
  tmp: 'tmp', run: 'run', varLog: 'var-log', conf: 'mysql-conf', data: 'mysql-data',
  shared: 'moco-shared', templates: 'moco-templates', bootstrap: 'moco-bootstrap', passwords: 'moco-passwords',
  clientConfig: 'my-cnf-secret', grpcCert: 'moco-grpc-cert',
} as const;

/** Volume names MOCO uses in the Pod template (the user's volumes must not reuse them). */
export const SYSTEM_VOLUMES: readonly string[] = Object.values(vol);

const mount = (name: string, mountPath: string, readOnly = false): Json => ({ name, mountPath, ...(readOnly ? { readOnly } : {}) });

/** requests default to limits (the seed's rule), per resource. */
function withRequests(resources: unknown): Json | undefined {
  const r = asJson(resources);
  if (!r.limits && !r.requests) return undefined;
  return { ...r, ...(r.limits ? { requests: { ...asJson(r.limits), ...asJson(r.requests) } } : {}) };
}

/** The `overwriteContainers` entry for a system container: replaces its resources and/or securityContext. */
function overwrite(container: Json, raw: Json): Json {
  const ow = asList(asJson(asJson(asJson(raw.spec).podTemplate)).overwriteContainers).find((o) => o.name === container.name);
  if (!ow) return container;
  return { ...container, ...(ow.resources ? { resources: ow.resources } : {}), ...(ow.securityContext ? { securityContext: ow.securityContext } : {}) };
}

const securityDefault = (c: Json): Json =>
  ({ ...c, securityContext: { runAsUser: UID, runAsGroup: UID, ...asJson(c.securityContext) } });

function probe(user: unknown, path: string, defaults: Json): Json {
  const { httpGet: _h, exec: _e, tcpSocket: _t, ...timing } = asJson(user);
  return { ...defaults, ...timing, httpGet: { path, port: 'health', scheme: 'HTTP' } };
}

function mysqldContainer(spec: ClusterSpec, user: Json, grace: number): Json {
  const ports = [
    { name: 'mysql', containerPort: PORTS.mysql, protocol: 'TCP' }, { name: 'mysqlx', containerPort: PORTS.mysqlx, protocol: 'TCP' },
    { name: 'mysql-admin', containerPort: PORTS.admin, protocol: 'TCP' }, { name: 'health', containerPort: PORTS.health, protocol: 'TCP' },
    ...asList(user.ports),
  ];
  const userArgs = (Array.isArray(user.args) ? user.args as string[] : []).filter((a) => !a.startsWith('--defaults-file'));
  const resources = withRequests(user.resources);
  return securityDefault({
    ...user,
    name: 'mysqld',
    command: ['/bin/sh', `${POD_PATHS.shared}/moco-run-mysqld.sh`],
    args: [`--defaults-file=${POD_PATHS.myCnf}`, ...userArgs],
    ports,
    ...(resources ? { resources } : {}),
    startupProbe: probe(user.startupProbe, '/healthz', { periodSeconds: 10, failureThreshold: Math.max(Math.floor(spec.startupWaitSeconds / 10), 1) }),
    livenessProbe: probe(user.livenessProbe, '/healthz', { periodSeconds: 10 }),
    readinessProbe: probe(user.readinessProbe, '/readyz', { periodSeconds: 2 }),
    // Time for the coordinator to switch over before mysqld is told to stop (deleting the primary's Pod).
    lifecycle: { preStop: { exec: { command: ['sleep', String(Math.min(20, Math.floor(grace / 2)))] } } },
    volumeMounts: [
      mount(vol.tmp, POD_PATHS.tmpDir), mount(vol.run, '/run'), mount(vol.varLog, '/var/log/mysql'),
      mount(vol.conf, POD_PATHS.confDir), mount(vol.clientConfig, POD_PATHS.clientConfig, true),
      mount(vol.data, POD_PATHS.mysqlRoot), mount(vol.shared, POD_PATHS.shared, true), ...asList(user.volumeMounts),
    ],
  });
}

function agentContainer(spec: ClusterSpec, o: StatefulSetOptions): Json {
  return securityDefault({
    name: 'agent',
    image: o.agentImage,
    args: ['serve', '--passwords-dir', POD_PATHS.passwords, '--max-delay', `${spec.maxDelaySeconds}s`],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'CLUSTER_NAME', value: spec.name },
    ],
    ports: [{ name: 'agent', containerPort: PORTS.agent, protocol: 'TCP' }],
    resources: AGENT_RESOURCES,
    volumeMounts: [
      mount(vol.tmp, POD_PATHS.tmpDir), mount(vol.run, '/run'), mount(vol.varLog, '/var/log/mysql'), mount(vol.conf, POD_PATHS.confDir),
      mount(vol.data, POD_PATHS.mysqlRoot), mount(vol.passwords, POD_PATHS.passwords, true), mount(vol.grpcCert, POD_PATHS.grpcCert, true),
    ],
  });
}

function initContainers(spec: ClusterSpec, o: StatefulSetOptions, mysqldImage: unknown): Json[] {
  return [
    securityDefault({
      name: 'copy-moco-init', image: o.agentImage,
      command: ['cp', '-f', '/moco/scripts/moco-init.sh', '/moco/scripts/moco-run-mysqld.sh', `${POD_PATHS.shared}/`],
      resources: INIT_RESOURCES,
      volumeMounts: [mount(vol.shared, POD_PATHS.shared)],
    }),
    securityDefault({
      name: 'moco-init', image: mysqldImage,
      command: ['/bin/sh', `${POD_PATHS.shared}/moco-init.sh`],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MOCO_SERVER_ID_BASE', value: String(spec.serverIdBase) },
      ],
      resources: INIT_RESOURCES,
      volumeMounts: [
        mount(vol.tmp, POD_PATHS.tmpDir), mount(vol.conf, POD_PATHS.confDir), mount(vol.data, POD_PATHS.mysqlRoot),
        mount(vol.shared, POD_PATHS.shared, true), mount(vol.templates, POD_PATHS.templates, true), mount(vol.bootstrap, POD_PATHS.initSql, true),
      ],
    }),
  ];
}

function volumes(spec: ClusterSpec, o: StatefulSetOptions): Json[] {
  const empty = (name: string): Json => ({ name, emptyDir: {} });
  const secret = (name: string, secretName: string): Json => ({ name, secret: { secretName, defaultMode: 0o444 } });
  return [
    empty(vol.tmp), empty(vol.run), empty(vol.varLog), empty(vol.conf), empty(vol.shared),
    { name: vol.templates, configMap: { name: o.myCnfConfigMap, defaultMode: 0o444 } },
    secret(vol.bootstrap, names.bootstrap(spec.name)), secret(vol.passwords, names.passwords(spec.name)),
    secret(vol.clientConfig, names.clientConfig(spec.name)), secret(vol.grpcCert, names.grpcCert(spec.name)),
  ];
}

/** The seed's default: spread the instances over nodes when possible (used only when the user sets no affinity). */
function defaultAffinity(name: string): Json {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: {
          labelSelector: {
            matchExpressions: Object.entries(baseLabels(name)).map(([key, v]) => ({ key, operator: 'In', values: [v] })),
          },
          topologyKey: 'kubernetes.io/hostname',
        },
      }],
    },
  };
}

/** A volume claim template from the spec, with the defaults the seed sets. */
function claimTemplate(t: Json): Json {
  const meta = asJson(t.metadata);
  const s = asJson(t.spec);
  return { metadata: meta, spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', ...s } };
}

/** The StatefulSet `moco-<name>`. `raw` is the MySQLCluster as written (its Pod template and claim templates). */
export function statefulSet(spec: ClusterSpec, raw: Json, owner: OwnerRef, o: StatefulSetOptions): KubeObject {
  const rs = asJson(raw.spec);
  const pt = asJson(rs.podTemplate);
  const pmeta = asJson(pt.metadata);
  const ps = asJson(pt.spec);
  const grace = typeof ps.terminationGracePeriodSeconds === 'number' ? ps.terminationGracePeriodSeconds : DEFAULT_GRACE_SECONDS;
  const userContainers = asList(ps.containers);
  const mysqldUser = userContainers.find((c) => c.name === 'mysqld') ?? { name: 'mysqld' };
  const system = [mysqldContainer(spec, mysqldUser, grace), overwrite(agentContainer(spec, o), raw)];
  const others = userContainers.filter((c) => c.name !== 'mysqld').map((c) => {
    const resources = withRequests(c.resources);
    return resources ? { ...c, resources } : c;
  });
  const replicas = spec.offline ? 0 : spec.replicas;
  const labels = { ...(pmeta.labels as Record<string, string> | undefined), ...baseLabels(spec.name) };
  const podSpec: Json = {
    ...ps,
    serviceAccountName: names.serviceAccount(spec.name),
    terminationGracePeriodSeconds: grace,
    securityContext: { fsGroup: UID, fsGroupChangePolicy: 'OnRootMismatch', ...asJson(ps.securityContext) },
    affinity: ps.affinity ?? defaultAffinity(spec.name),
    initContainers: [...initContainers(spec, o, mysqldUser.image).map((c) => overwrite(c, raw)), ...asList(ps.initContainers)],
    containers: [...system, ...others],
    volumes: [...volumes(spec, o), ...asList(ps.volumes)],
  };
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: names.statefulSet(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    spec: {
      replicas,
      selector: { matchLabels: baseLabels(spec.name) },
      serviceName: names.headless(spec.name),
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? replicas } },
      template: {
        metadata: { labels, ...(pmeta.annotations ? { annotations: pmeta.annotations } : {}) },
        spec: podSpec,
      },
      volumeClaimTemplates: asList(rs.volumeClaimTemplates).map(claimTemplate),
    },
  };
}
