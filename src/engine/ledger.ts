import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with keys sorted at every level, so that the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The stored event row exactly as it is in the table, every column but the hash itself. */
export interface HashedEventRow {
  position: number;
  streamId: string;
  seq: number;
  type: string;
  payload: string;
  facts: string;
  actor: string;
  at: string;
  fromState: string | null;
  toState: string;
  machineId: string;
  machineVersion: number;
  prevHash: string;
}

/** hash = sha256(prevHash ‖ canonical JSON of the row): the stored texts are hashed as they are, byte for byte. */
export function hashEvent(row: HashedEventRow): string {
  const { prevHash, ...rest } = row;
  return sha256(prevHash + canonicalJson(rest));
}

/** The ledger head folds every event's hash in global order; publishing it pins the whole log. */
export function foldHead(previousHead: string, eventHash: string): string {
  return sha256(previousHead + eventHash);
}
