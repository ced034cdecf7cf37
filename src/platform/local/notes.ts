/**
 * What a manifest written for Kubernetes asks for that one machine does not do, said once when it is applied
 * (`note: spec.collectors: no mysqld_exporter sidecar locally`). A pass over the documents as written, apart from
 * validation: the API's rules are the same everywhere, these notes are this platform's.
 */
import { given, isObj, type Obj, words } from '../../api/checker.ts';
import { SCHEDULING } from '../../api/mysqlcluster.ts';

type Note = [path: string, value: unknown, why: string];

/** Top-level spec fields that have no effect on one machine, with the reason shown to the user. */
const LOCAL_ONLY = Object.entries({
  'primaryServiceTemplate replicaServiceTemplate': 'there are no Kubernetes Services locally',
  volumeClaimTemplates: 'storage size is not enforced locally',
  collectors: 'no mysqld_exporter sidecar locally',
  agentUseLocalhost: 'agents always reach mysqld on localhost locally',
  initializeTimezoneData: 'time zone tables are not loaded locally',
  'logRotationSchedule logRotationSize': 'logs are not rotated locally',
  'slowQueryLogConfigTmpl disableSlowQueryLogContainer': 'there is no slow-log sidecar locally',
}).flatMap(([keys, why]) => words(keys).map((key) => [key, why] as const));

const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function podTemplateNotes(pt: Obj): Note[] {
  const P = 'spec.podTemplate.spec';
  const ps = obj(pt.spec);
  const notes: Note[] = [];
  list(ps.containers).forEach((ct, i) => {
    const at = `${P}.containers[${i}]`;
    const o = obj(ct);
    if (typeof o.name !== 'string') return;
    if (o.name !== 'mysqld') {
      notes.push([at, o.name, `only mysqld runs locally; container "${o.name}" is not run`]);
      return;
    }
    const res = obj(o.resources);
    notes.push([`${at}.resources.requests.cpu`, obj(res.requests).cpu, 'CPU is not reserved locally']);
    notes.push([`${at}.resources.limits.cpu`, obj(res.limits).cpu, 'CPU is not limited locally']);
    notes.push([`${at}.resources.limits.memory`, obj(res.limits).memory, 'memory is not limited locally (it sizes the buffer pool)']);
  });
  notes.push([`${P}.initContainers`, ps.initContainers, 'init containers are not run locally']);
  notes.push([`${P}.volumes`, ps.volumes, 'Pod volumes are not mounted locally']);
  for (const key of SCHEDULING) notes.push([`${P}.${key}`, ps[key], 'Kubernetes scheduling does not apply locally']);
  notes.push(['spec.podTemplate.overwriteContainers', pt.overwriteContainers, 'system containers are not customized locally']);
  return notes;
}

function jobConfigNotes(job: Obj, at: string): Note[] {
  const notes: Note[] = [
    [`${at}.serviceAccountName`, job.serviceAccountName, 'there are no ServiceAccounts locally; backup and restore jobs run as the agent'],
    [`${at}.workVolume`, isObj(job.workVolume) ? job.workVolume : undefined,
      'not used locally: a MariaDB backup stages nothing (it is streamed), a MySQL one is copied next to the instance\'s data directory'],
    ...['cpu', 'maxCpu', 'memory', 'maxMemory'].map((key): Note => [`${at}.${key}`, job[key], 'backup jobs are not resource-limited locally']),
    [`${at}.affinity`, isObj(job.affinity) ? job.affinity : undefined, 'Kubernetes scheduling does not apply locally'],
    ...['volumes', 'volumeMounts'].map((key): Note => [`${at}.${key}`, Array.isArray(job[key]) ? job[key] : undefined, 'extra volumes are not mounted locally']),
  ];
  const bucket = obj(job.bucketConfig);
  if (bucket.backendType === 'file') {
    for (const key of ['region', 'endpointURL', 'usePathStyle', 'caCert']) {
      notes.push([`${at}.bucketConfig.${key}`, bucket[key], 'the file backend ignores it']);
    }
  }
  return notes;
}

/** The notes for one document (a MySQLCluster or a BackupPolicy), as "path: why"; empty values bring none. */
export function localNotes(doc: Obj): string[] {
  const notes: Note[] = [];
  const spec = obj(doc.spec);
  if (doc.kind === 'BackupPolicy') {
    const name = String(obj(doc.metadata).name ?? '');
    notes.push(...jobConfigNotes(obj(spec.jobConfig), `BackupPolicy ${name} spec.jobConfig`));
  } else {
    notes.push(...podTemplateNotes(obj(spec.podTemplate)));
    if (isObj(spec.restore)) notes.push(...jobConfigNotes(obj(spec.restore.jobConfig), 'spec.restore.jobConfig'));
    for (const [key, why] of LOCAL_ONLY) notes.push([`spec.${key}`, spec[key], why]);
  }
  return notes.filter(([, v]) => given(v) && v !== false && v !== 0 && !(Array.isArray(v) && v.length === 0))
    .map(([path, , why]) => `${path}: ${why}`);
}

/** `path (image)` for the mysqld container's image: locally the machine's own mysqld runs instead. */
export function imageNotes(cluster: Obj): string[] {
  return list(obj(obj(obj(cluster.spec).podTemplate).spec).containers)
    .map((ct, i) => [obj(ct), i] as const)
    .filter(([o]) => o.name === 'mysqld' && typeof o.image === 'string' && o.image !== '')
    .map(([o, i]) => `spec.podTemplate.spec.containers[${i}].image (${String(o.image)})`);
}
