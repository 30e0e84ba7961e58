import { canonicalJson } from '../engine/ledger.ts';

/** One field that differs between two replayed steps. */
export interface FieldChange {
  /** A dotted path into the context: `form.costs.subsidy`, `remarks`, `awardedKopecks`. */
  path: string;
  before: unknown;
  after: unknown;
}

/**
 * The context as dotted paths. Objects nested under `deep` keys (the form and its cost groups)
 * are opened field by field; everything else (lists, score tables) stays one value, because an
 * auditor reads "the remarks" as one thing, not as remarks.0.text.
 */
export function flattenContext(context: unknown, deep: readonly string[] = ['form']): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (value: unknown, path: string, open: boolean) => {
    if (open && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) walk(child, path ? `${path}.${key}` : key, path === '' ? deep.includes(key) : true);
      return;
    }
    if (value !== undefined) out.set(path, value);
  };
  walk(context, '', true);
  return out;
}

/**
 * What changed from one step to the next, field by field; `order` puts known paths first (the
 * form in the order the form shows it), the rest follow alphabetically.
 */
export function contextChanges(before: unknown, after: unknown, order: readonly string[] = []): FieldChange[] {
  const a = before === null || before === undefined ? new Map<string, unknown>() : flattenContext(before);
  const b = after === null || after === undefined ? new Map<string, unknown>() : flattenContext(after);
  const paths = new Set([...a.keys(), ...b.keys()]);
  const changes: FieldChange[] = [];
  for (const path of paths) {
    const was = a.get(path);
    const now = b.get(path);
    if (canonicalJson(was ?? null) !== canonicalJson(now ?? null)) changes.push({ path, before: was, after: now });
  }
  const rank = (path: string) => {
    const i = order.indexOf(path);
    return i === -1 ? order.length : i;
  };
  return changes.sort((x, y) => rank(x.path) - rank(y.path) || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
