/**
 * A JobConfig's environment, resolved the way the kubelet builds a container's environment: `envFrom` first
 * (in order, with its prefix), then `env` in order with `$(VAR)` expansion, `env` winning on conflicts. Secret and
 * ConfigMap references are looked up among the documents of the same manifest file.
 */
import { type Checker, describe, given, isObj, type Obj } from './checker.ts';

/** The outcome of {@link expandVars}. */
export interface Expansion {
  text: string;
  /** Names referenced as `$(NAME)` that `lookup` did not know (left in `text` as written). */
  missing: string[];
}

/**
 * Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion): `$(NAME)` becomes the
 * value of NAME, `$$` becomes `$` (so `$$(NAME)` stays `$(NAME)`), an unknown `$(NAME)` and an unclosed `$(` stay
 * as written, any other `$` is kept.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): Expansion {
  let text = '';
  const missing: string[] = [];
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    text += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    const close = rest.indexOf(')');
    if (rest[0] === '$') text += '$';
    else if (rest[0] === '(' && close > 0) {
      const name = rest.slice(1, close);
      const value = lookup(name);
      if (value === undefined) missing.push(name);
      text += value ?? `$(${name})`;
      cursor += close;
    } else text += `$${rest[0]}`;
    cursor += 1;
    checkpoint = cursor + 1;
  }
  return { text: text + input.slice(checkpoint), missing };
}

type Kind = 'Secret' | 'ConfigMap';

/**
 * The Secret and ConfigMap documents of one manifest file, decoded on first use (so a broken document is reported
 * once, and only when something refers to it). Namespaces are ignored: everything in the file is one namespace.
 */
export class EnvSources {
  private readonly decoded = new Map<Obj, Record<string, string>>();
  /**
   * @param resolving false where the referenced objects cannot be seen (an admission webhook): references are
   *   then neither resolved nor reported, and only the shape of the environment is checked.
   */
  constructor(private readonly c: Checker, private readonly documents: readonly Obj[], readonly resolving = true) {}

  /** Sources that resolve nothing and report no missing reference (for webhooks). */
  static unresolved(c: Checker): EnvSources {
    return new EnvSources(c, [], false);
  }

  /**
   * The key/value data of the Secret (`data` base64-decoded, then `stringData`) or ConfigMap (`data`) named
   * `name`; undefined, with a problem at `path` unless `optional`, when it is not in the file.
   */
  data(kind: Kind, name: string, path: string, optional: boolean): Record<string, string> | undefined {
    const docs = this.documents.filter((d) => d.kind === kind && isObj(d.metadata) && d.metadata.name === name);
    this.c.check(docs.length > 1, path, `${docs.length} ${kind}s are named "${name}"; keep one`);
    const [doc] = docs;
    if (!this.resolving) return undefined;
    if (!doc) {
      const field = kind === 'Secret' ? 'stringData' : 'data';
      this.c.check(!optional, path, `${kind} "${name}" is not in this file; add it as another document after "---" ` +
        `(apiVersion: v1, kind: ${kind}, metadata.name: ${name}, ${field}: {KEY: value}), or set optional: true`);
      return undefined;
    }
    let data = this.decoded.get(doc);
    if (!data) this.decoded.set(doc, (data = this.decode(kind, name, doc)));
    return data;
  }

  private decode(kind: Kind, name: string, doc: Obj): Record<string, string> {
    const out: Record<string, string> = {};
    const at = `${kind} ${name}`;
    for (const [k, v] of Object.entries(this.c.obj(doc.data, `${at} data`) ?? {})) {
      if (typeof v !== 'string') this.c.add(`${at} data.${k}`, `expected a string, got ${describe(v)}; quote it`);
      else if (kind === 'ConfigMap') out[k] = v;
      else if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s+/g, '')) || v.replace(/\s+/g, '').length % 4 !== 0) {
        this.c.add(`${at} data.${k}`, 'is not base64; encode it (base64 -w0) or put the plain text under stringData');
      } else out[k] = Buffer.from(v, 'base64').toString('utf8');
    }
    if (kind === 'Secret') {
      for (const [k, v] of Object.entries(this.c.obj(doc.stringData, `${at} stringData`) ?? {})) {
        if (typeof v === 'string') out[k] = v;
        else this.c.add(`${at} stringData.${k}`, `expected a string, got ${describe(v)}; quote it`);
      }
    }
    return out;
  }
}

const VALUE_FROM = ['secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef', 'fileKeyRef'];

/**
 * Resolves `job.envFrom` and `job.env` (at `at`, e.g. "spec.restore.jobConfig") into the container environment.
 * Problems (missing Secrets or keys, fieldRef, bad entries) go to `c`; what could not be resolved is left out.
 */
export function resolveEnv(c: Checker, job: Obj, at: string, sources: EnvSources): Record<string, string> {
  const env: Record<string, string> = {};
  (c.list(job.envFrom, `${at}.envFrom`) ?? []).forEach((item, i) => {
    const p = `${at}.envFrom[${i}]`;
    const o = c.obj(item, p, true);
    if (!o) return;
    c.keys(o, p, ['prefix', 'configMapRef', 'secretRef']);
    const prefix = o.prefix === '' ? '' : (c.str(o.prefix, `${p}.prefix`) ?? '');
    const refs = (['configMapRef', 'secretRef'] as const).filter((k) => given(o[k]));
    c.check(refs.length !== 1, p, `set exactly one of configMapRef and secretRef (found ${refs.length})`);
    for (const key of refs) {
      const data = reference(c, sources, key === 'secretRef' ? 'Secret' : 'ConfigMap', o[key], `${p}.${key}`, []);
      for (const [k, v] of Object.entries(data?.data ?? {})) env[prefix + k] = v;
    }
  });
  (c.list(job.env, `${at}.env`) ?? []).forEach((item, i) => {
    const p = `${at}.env[${i}]`;
    const o = c.obj(item, p, true);
    if (!o) return;
    c.keys(o, p, ['name', 'value', 'valueFrom']);
    const name = c.str(o.name, `${p}.name`, true);
    c.check(name?.includes('='), `${p}.name`, `"${name}" contains "="; use a name without it`);
    const value = o.value === '' ? '' : c.str(o.value, `${p}.value`);
    const from = c.obj(o.valueFrom, `${p}.valueFrom`);
    c.check(value && from, `${p}.valueFrom`, 'cannot be set together with a non-empty value; keep one of them');
    let resolved: string | undefined = '';
    if (value) resolved = expandVars(value, (n) => env[n]).text;
    else if (from) resolved = valueFrom(c, sources, from, `${p}.valueFrom`);
    if (name && resolved !== undefined) env[name] = resolved;
  });
  return env;
}

function valueFrom(c: Checker, sources: EnvSources, from: Obj, at: string): string | undefined {
  c.keys(from, at, VALUE_FROM);
  const set = VALUE_FROM.filter((k) => given(from[k]));
  c.check(set.length !== 1, at, `set exactly one of secretKeyRef and configMapKeyRef (found ${set.length})`);
  for (const key of ['fieldRef', 'resourceFieldRef', 'fileKeyRef']) {
    c.check(sources.resolving && given(from[key]), `${at}.${key}`, 'is not available locally (there is no Pod); use value, ' +
      'secretKeyRef or configMapKeyRef');
  }
  if (set.length !== 1) return undefined;
  const [kind, key] = given(from.secretKeyRef) ? ['Secret', 'secretKeyRef'] as const :
    given(from.configMapKeyRef) ? ['ConfigMap', 'configMapKeyRef'] as const : [];
  return kind && reference(c, sources, kind, from[key], `${at}.${key}`, ['key'])?.value;
}

/** A `{name, optional}` (envFrom) or `{name, key, optional}` (valueFrom) reference, looked up. */
function reference(c: Checker, sources: EnvSources, kind: Kind, ref: unknown, at: string, extra: string[]) {
  const o = c.obj(ref, at, true);
  if (!o) return undefined;
  c.keys(o, at, ['name', 'optional', ...extra]);
  const name = c.str(o.name, `${at}.name`, true);
  const key = extra.length > 0 ? c.str(o.key, `${at}.key`, true) : undefined;
  const optional = c.bool(o.optional, `${at}.optional`) ?? false;
  if (!name) return undefined;
  const data = sources.data(kind, name, `${at}.name`, optional);
  if (!data || key === undefined) return data && { data, value: undefined };
  const value = data[key];
  c.check(value === undefined && !optional && sources.resolving, `${at}.key`, `${kind} "${name}" has no key "${key}"; add it under ` +
    `${kind === 'Secret' ? 'stringData (or base64 under data)' : 'data'}, or set optional: true`);
  return { data, value };
}
