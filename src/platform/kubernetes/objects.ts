/**
 * Kubernetes objects as the builders produce them: plain JSON, as server-side apply takes it. Only the fields this
 * project sets are typed; everything else a user's template brings along passes through as written.
 */

export type Json = Record<string, unknown>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerRef[];
}

export interface KubeObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** An owner reference to the MySQLCluster: deleting it deletes what it owns. */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export function ownerRef(cluster: { apiVersion?: unknown; kind?: unknown; metadata: { name: string; uid: string } }): OwnerRef {
  return {
    apiVersion: String(cluster.apiVersion ?? 'moco.cybozu.com/v1beta2'), kind: String(cluster.kind ?? 'MySQLCluster'),
    name: cluster.metadata.name, uid: cluster.metadata.uid, controller: true, blockOwnerDeletion: true,
  };
}

export const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asJson = (v: unknown): Json => (isJson(v) ? v : {});
export const asList = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isJson) : []);
