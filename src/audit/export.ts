import type { EventRow } from '../engine/engine.ts';
import { GENESIS_HASH } from '../engine/ledger.ts';
import type { LedgerProblem } from '../engine/replay.ts';
import type { Actor } from '../domain/roles.ts';
import { formatDateTime } from '../domain/time.ts';

/**
 * An application's whole history for people outside the system: JSON that a third party can
 * re-check with nothing but SHA-256 and the rule written into the file, and CSV for a spreadsheet.
 */

/** The event row exactly as stored and hashed: texts are the stored texts, byte for byte. */
export type ExportedEvent = Omit<EventRow, never>;

export interface HistoryExport {
  format: 'isu-ib.history/1';
  exportedAt: string;
  application: { id: number; title: string; municipality: string; programme: string; timeZone: string };
  stream: { id: string; machineId: string; machineVersion: number; version: number; state: string; headHash: string };
  verification: {
    algorithm: 'sha256';
    genesisHash: string;
    rule: string;
    canonicalJson: string;
    hashedFields: string[];
    replay: { ok: boolean; problems: LedgerProblem[] };
  };
  events: ExportedEvent[];
}

export const hashRule =
  'hash = lowercase hex of sha256(utf8(prevHash + canonicalJson(row))), where row is the event without its prevHash and hash fields; ' +
  'the first event of a stream has prevHash = genesisHash, every later one the hash of the event before it (by seq). ' +
  'The stream head (stream.headHash) is the hash of its last event.';

export const canonicalJsonRule =
  'canonicalJson(v): null, booleans, numbers and strings as JSON.stringify writes them; arrays as [a,b,…] with each element canonical; ' +
  'objects as {"key":value,…} with keys sorted by UTF-16 code units, fields whose value is undefined left out; no whitespace anywhere. ' +
  'payload, facts and actor are already canonical JSON texts: they are hashed as the strings they are, not re-encoded.';

export const hashedFields = ['position', 'streamId', 'seq', 'type', 'payload', 'facts', 'actor', 'at', 'fromState', 'toState', 'machineId', 'machineVersion'];

export function historyExport(input: {
  application: HistoryExport['application'];
  stream: HistoryExport['stream'];
  rows: EventRow[];
  replay: { ok: boolean; problems: LedgerProblem[] };
  now: Date;
}): HistoryExport {
  return {
    format: 'isu-ib.history/1',
    exportedAt: input.now.toISOString(),
    application: input.application,
    stream: input.stream,
    verification: {
      algorithm: 'sha256',
      genesisHash: GENESIS_HASH,
      rule: hashRule,
      canonicalJson: canonicalJsonRule,
      hashedFields,
      replay: input.replay,
    },
    events: input.rows.map((row) => ({
      position: row.position,
      streamId: row.streamId,
      seq: row.seq,
      type: row.type,
      payload: row.payload,
      facts: row.facts,
      actor: row.actor,
      at: row.at,
      fromState: row.fromState,
      toState: row.toState,
      machineId: row.machineId,
      machineVersion: row.machineVersion,
      prevHash: row.prevHash,
      hash: row.hash,
    })),
  };
}

/**
 * One CSV cell: quoted when it holds a separator, a quote or a line break; a text a spreadsheet
 * would take for a formula (= + - @, tab, carriage return first) gets a leading apostrophe, so
 * that opening the export runs nothing (OWASP "CSV injection").
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",;\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: unknown[]): string {
  return cells.map(csvCell).join(',');
}

const csvColumns = ['seq', 'position', 'at_utc', 'at_local', 'actor_login', 'actor_name', 'actor_role', 'event', 'from_state', 'to_state', 'payload', 'facts', 'machine_id', 'machine_version', 'prev_hash', 'hash'];

/** The history as CSV: a UTF-8 BOM so that Excel reads Cyrillic, CRLF line ends as RFC 4180 has them. */
export function historyCsv(rows: EventRow[], timeZone: string): string {
  const lines = [csvLine(csvColumns)];
  for (const row of rows) {
    let actor: Partial<Actor> = {};
    try {
      actor = JSON.parse(row.actor) as Actor;
    } catch {
      // a damaged actor stays visible below as the raw text of the row is not lost: login empty
    }
    lines.push(
      csvLine([
        row.seq,
        row.position,
        row.at,
        formatDateTime(row.at, timeZone, 'ru'),
        actor.login ?? '',
        actor.name ?? '',
        actor.role ?? '',
        row.type,
        row.fromState ?? '',
        row.toState,
        row.payload,
        row.facts,
        row.machineId,
        row.machineVersion,
        row.prevHash,
        row.hash,
      ]),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
