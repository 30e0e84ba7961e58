import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with keys sorted at every level, so that the same value always hashes the same. Written as
 * loops over the sorted keys (issue 18: it runs four times a write); the text is byte for byte
 * what `{${Object.entries(value).filter(defined).sort().map(…)}}` made before, which the hashes
 * of every stored event depend on (test/unit/canonical-json.unit.test.ts).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Most objects are built in key order already; integer-like keys come first whatever the order.
  for (let i = 1; i < keys.length; i += 1) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += (first ? '' : ',') + quotedKey(key) + (typeof item === 'string' ? JSON.stringify(item) : canonicalJson(item));
    first = false;
  }
  return `${out}}`;
}

/** `"key":` for the keys our events and snapshots repeat, quoted once (a bounded cache: keys come from our schemas). */
const quotedKeys = new Map<string, string>();
function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}

export function sha256(text: string): string {
  // createHash, not crypto.hash: on Node 20 the one-shot form was the slower of the two on the log's texts (issue 18.4).
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

/**
 * The same text hashEvent hashes, for a row with exactly the columns of the events table: its keys
 * written in the sorted order canonicalJson would sort them to, without sorting or walking an
 * object (issue 18.4: verify hashes every event of the log). Each column is a string, a number or
 * null (from_state), so `JSON.stringify` of a string and the digits of an integer are what
 * canonicalJson writes for it; held to hashEvent on fixed and random rows (test/unit/ledger-hash.unit.test.ts).
 */
export function hashedText(row: HashedEventRow): string {
  return (
    row.prevHash +
    '{"actor":' + JSON.stringify(row.actor) +
    ',"at":' + JSON.stringify(row.at) +
    ',"facts":' + JSON.stringify(row.facts) +
    ',"fromState":' + (row.fromState === null ? 'null' : JSON.stringify(row.fromState)) +
    ',"machineId":' + JSON.stringify(row.machineId) +
    ',"machineVersion":' + JSON.stringify(row.machineVersion) +
    ',"payload":' + JSON.stringify(row.payload) +
    ',"position":' + JSON.stringify(row.position) +
    ',"seq":' + JSON.stringify(row.seq) +
    ',"streamId":' + JSON.stringify(row.streamId) +
    ',"toState":' + JSON.stringify(row.toState) +
    ',"type":' + JSON.stringify(row.type) +
    '}'
  );
}

/** hashEvent of a stored row, through hashedText: what verify checks every event with. */
export function hashStoredEvent(row: HashedEventRow): string {
  return sha256(hashedText(row));
}
