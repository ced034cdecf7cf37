/**
 * The seed documents' example manifests (copied verbatim into test/unit/platform/fixtures/seed-*.yaml) and how
 * tests complete the excerpts among them: most elide the rest of the cluster with "...", so an excerpt's fields
 * are laid over a complete manifest ({@link overlay}); an indented "..." line (a YAML error as written) is dropped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import YAML from 'yaml';

type Obj = Record<string, unknown>;

export const SEED_FIXTURES = new URL('../unit/platform/fixtures/', import.meta.url);

/** The text of one seed example. */
export const seedExample = (name: string): string => readFileSync(new URL(name, SEED_FIXTURES), 'utf8');

/** The names of every seed example, in order. */
export const seedExampleNames = (): string[] => readdirSync(SEED_FIXTURES).filter((n) => n.startsWith('seed-')).sort();

/** `b` laid over `a`: objects merged key by key, anything else (arrays included) taken from `b` when it has it. */
export function overlay(a: unknown, b: unknown): unknown {
  if (b === null || b === undefined) return a;
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || Array.isArray(b)) return b;
  const out: Obj = { ...(a as Obj) };
  for (const [k, v] of Object.entries(b as Obj)) out[k] = overlay(out[k], v);
  return out;
}

/** The documents of an example's text (empty ones skipped), with the indented "..." lines dropped. */
export function exampleDocuments(text: string): Obj[] {
  return YAML.parseAllDocuments(text.replace(/^[ \t]+\.\.\.[ \t]*$/gm, ''))
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}
