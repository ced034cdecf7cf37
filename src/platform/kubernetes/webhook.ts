/**
 * The admission webhooks (admission.k8s.io/v1 AdmissionReview): defaulting and validation of MySQLCluster, and
 * validation of BackupPolicy, calling src/api's pure functions unchanged. `review` is pure (request in, response
 * out) and table-tested; `serveWebhooks` puts it behind HTTPS with a certificate the controller keeps current.
 * A refusal says what to fix, one problem per line, as `moco up` does for the same manifest.
 */
import https from 'node:https';
import { validateBackupPolicy } from '../../api/backuppolicy.ts';
import { applyClusterDefaults, validateCluster } from '../../api/mysqlcluster.ts';
import type { Logger } from '../../shared/logger.ts';
import { FINALIZER } from './names.ts';
import { asJson, isJson, type Json } from './objects.ts';

export const WEBHOOK_PATHS = {
  mutateCluster: '/mutate-moco-cybozu-com-v1beta2-mysqlcluster',
  validateCluster: '/validate-moco-cybozu-com-v1beta2-mysqlcluster',
  validateBackupPolicy: '/validate-moco-cybozu-com-v1beta2-backuppolicy',
} as const;

interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object?: Json;
  oldObject?: Json;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

const allow = (uid: string): AdmissionResponse => ({ uid, allowed: true });
const deny = (uid: string, problems: string[], what: string): AdmissionResponse => ({
  uid, allowed: false,
  // 403 with no reason, as controller-runtime denies: kubectl then prints the message. A 422 "Invalid" without
  // field causes makes kubectl print only "The request is invalid", hiding what to fix.
  status: { code: 403, message: `${what} is not valid; nothing was changed:\n${problems.join('\n')}` },
});

/** The JSON patch that turns `from` into `to` at the top of `spec` and `metadata.finalizers` (what defaulting changes). */
function patchOf(from: Json, to: Json): unknown[] {
  const ops: unknown[] = [];
  if (JSON.stringify(from.spec) !== JSON.stringify(to.spec)) ops.push({ op: from.spec === undefined ? 'add' : 'replace', path: '/spec', value: to.spec });
  const [fm, tm] = [asJson(from.metadata), asJson(to.metadata)];
  if (JSON.stringify(fm.finalizers) !== JSON.stringify(tm.finalizers)) {
    ops.push({ op: fm.finalizers === undefined ? 'add' : 'replace', path: '/metadata/finalizers', value: tm.finalizers });
  }
  return ops;
}

/** Answers one AdmissionRequest for `path`. */
export function review(path: string, request: AdmissionRequest, options: { pickServerIdBase?: () => number } = {}): AdmissionResponse {
  const { uid, operation } = request;
  const obj = request.object ?? {};
  switch (path) {
    case WEBHOOK_PATHS.mutateCluster: {
      if (operation !== 'CREATE') return allow(uid);
      const defaulted = applyClusterDefaults(obj, { creating: true, ...(options.pickServerIdBase ? { pickServerIdBase: options.pickServerIdBase } : {}) });
      const meta = asJson(defaulted.metadata);
      const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers as string[] : [];
      if (!finalizers.includes(FINALIZER)) defaulted.metadata = { ...meta, finalizers: [...finalizers, FINALIZER] };
      const ops = patchOf(obj, defaulted);
      return ops.length === 0 ? allow(uid) : { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
    }
    case WEBHOOK_PATHS.validateCluster: {
      if (operation === 'DELETE' || operation === 'CONNECT') return allow(uid);
      // A cluster being deleted may still be updated (its finalizer removed) whatever its spec says.
      if (operation === 'UPDATE' && asJson(obj.metadata).deletionTimestamp) return allow(uid);
      const problems = validateCluster(obj, operation === 'UPDATE' ? request.oldObject : undefined);
      return problems.length === 0 ? allow(uid) : deny(uid, problems, `MySQLCluster ${String(asJson(obj.metadata).name ?? '')}`);
    }
    case WEBHOOK_PATHS.validateBackupPolicy: {
      if (operation === 'DELETE' || operation === 'CONNECT') return allow(uid);
      const problems = validateBackupPolicy(obj);
      return problems.length === 0 ? allow(uid) : deny(uid, problems, `BackupPolicy ${String(asJson(obj.metadata).name ?? '')}`);
    }
    default:
      return { uid, allowed: false, status: { code: 404, message: `no webhook at ${path}` } };
  }
}

/** Wraps a response in the AdmissionReview the API server expects. */
export function reviewResponse(body: unknown, path: string): Json {
  const req = asJson(asJson(body).request) as unknown as AdmissionRequest;
  const response = isJson(req) && typeof req.uid === 'string'
    ? review(path, req)
    : { uid: '', allowed: false, status: { code: 400, message: 'not an AdmissionReview with a request' } };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export interface WebhookServer {
  port: number;
  /** Replaces the serving certificate (rotation) without dropping connections. */
  setCertificate(cert: string, key: string): void;
  close(): Promise<void>;
}

/** Serves the webhooks over HTTPS on `port` (0: any) with `cert`/`key`. */
export async function serveWebhooks(o: { port: number; host?: string; cert: string; key: string; log: Logger }): Promise<WebhookServer> {
  const server = https.createServer({ cert: o.cert, key: o.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { if (body.length < 4 * 1024 * 1024) body += d; });
    req.on('end', () => {
      let out: Json;
      try {
        out = reviewResponse(JSON.parse(body), (req.url ?? '').split('?')[0] as string);
      } catch (err) {
        o.log.warn({ err: (err as Error).message, path: req.url }, 'bad admission request');
        res.writeHead(400, { 'content-type': 'text/plain' }).end('expected an AdmissionReview in JSON\n');
        return;
      }
      const r = asJson(out.response);
      if (!r.allowed) o.log.info({ path: req.url, message: asJson(r.status).message }, 'admission refused');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.port, o.host ?? '0.0.0.0', resolve));
  return {
    port: (server.address() as { port: number }).port,
    setCertificate: (cert, key) => server.setSecureContext({ cert, key }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
