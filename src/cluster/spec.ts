/** A manifest as `moco up` loads it: the normalized spec plus what the user wrote. */
import type { ClusterSpec } from '../api/spec.ts';

export type { ClusterSpec, ReplicationSource } from '../api/spec.ts';

export interface LoadedManifest {
  spec: ClusterSpec;
  /** The documents as written. */
  cluster: Record<string, unknown>;
  configMap?: Record<string, unknown>;
  backupPolicy?: Record<string, unknown>;
  /** Fields that are accepted but do not apply to a local cluster, as dotted paths with a short reason. */
  notApplyingLocally: string[];
  /** Where the mysqld container names an image (`path (image)`): locally the machine's own mysqld runs instead. */
  imageNotes: string[];
}
