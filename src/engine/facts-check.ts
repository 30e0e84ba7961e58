import type { Db } from '../db/client.ts';
import { statement } from '../db/statements.ts';
import type { ProjectionDifference } from './projections.ts';
import { canonicalJson } from './ledger.ts';
import { effectiveRules, type DocumentRequirement, type RequirementProjectType } from '../domain/document-requirements.ts';
import type { DocumentKind, FileTypeKey } from '../domain/documents.ts';
import type { SettingEntry } from './settings-log.ts';

/**
 * The facts stored with events checked against the streams they came from (issue 17.2). An event's
 * facts are what its guards read at that moment; replay trusts them, and the chain proves only
 * that they were not changed since. What is checked here is that they were right when written: the
 * active stages an event recorded must be the stages whose stage streams were active at its place
 * in the log — a forged stages table, or a bug, at write time shows here. The documents a
 * submission or an acceptance recorded as required must be what the programme's requirements (as
 * the settings log folds them at that position) and the application's project type then gave.
 */

/** A fact of an event that is not what the streams gave at its position: table `events`, key `stream/seq`, column `facts.<name>`. */
export interface FactDifference extends ProjectionDifference {
  stream: string;
  seq: number;
  position: number;
}

interface StageRow {
  streamId: string;
  programmeId: number;
  no: number;
  key: string;
}

interface FactRow {
  position: number;
  streamId: string;
  seq: number;
  machineId: string;
  toState: string;
  active: string | null;
}

/**
 * Every event whose `activeStages` fact is not the stages active at its position: one pass over the
 * log in order, keeping each stage stream's state as its events set it.
 */
export function factDifferences(db: Db, settings: readonly SettingEntry[] = []): FactDifference[] {
  return [...activeStageDifferences(db), ...requiredDocumentDifferences(db, settings)];
}

function activeStageDifferences(db: Db): FactDifference[] {
  const stageRows = statement<[], StageRow>(db, 'SELECT stream_id AS streamId, programme_id AS programmeId, no, key FROM stages ORDER BY programme_id, no').all();
  const stagesOfProgramme = new Map<number, StageRow[]>();
  for (const row of stageRows) {
    const list = stagesOfProgramme.get(row.programmeId) ?? [];
    list.push(row);
    stagesOfProgramme.set(row.programmeId, list);
  }
  // The programme each stream that records active stages belongs to (its application, its journal entry).
  const programmeOf = new Map<string, number>(
    statement<[], { streamId: string; programmeId: number }>(
      db,
      'SELECT stream_id AS streamId, programme_id AS programmeId FROM applications UNION ALL SELECT stream_id, programme_id FROM journal_entries',
    )
      .all()
      .map((row) => [row.streamId, row.programmeId]),
  );
  const stateOf = new Map<string, string>();
  const found: FactDifference[] = [];
  const rows = statement<[], FactRow>(
    db,
    `SELECT position, stream_id AS streamId, seq, machine_id AS machineId, to_state AS toState,
       CASE WHEN machine_id = 'stage' THEN NULL ELSE json_extract(facts, '$.activeStages') END AS active
     FROM events WHERE machine_id = 'stage' OR json_type(facts, '$.activeStages') = 'array' ORDER BY position`,
  );
  for (const row of rows.iterate()) {
    if (row.machineId === 'stage') {
      // The stage stream's state after this event: what an event after it read.
      stateOf.set(row.streamId, row.toState);
      continue;
    }
    const programmeId = programmeOf.get(row.streamId);
    if (programmeId === undefined || row.active === null) continue;
    const derived = (stagesOfProgramme.get(programmeId) ?? []).filter((stage) => stateOf.get(stage.streamId) === 'active').map((stage) => stage.key);
    const stored = row.active;
    if (stored !== JSON.stringify(derived)) {
      found.push({ table: 'events', key: `${row.streamId}/${row.seq}`, column: 'facts.activeStages', stored, derived: JSON.stringify(derived), stream: row.streamId, seq: row.seq, position: row.position });
    }
  }
  return found;
}

interface ApplicationEventRow {
  position: number;
  streamId: string;
  seq: number;
  type: string;
  payload: string;
  facts: string;
}

type SettingRow = Record<string, string | number | null>;

/**
 * Every application event whose facts about the programme's settings are not what the settings
 * log gave at its position: `requiredDocuments` (submit, accept) and `documentRules`
 * (attach-document) from the document requirements and the project type as the stream's `create`
 * and `update` events had set it; `rules` (submit, sign-agreement) and `savingsRule`
 * (sign-contract) from the programme's row. A programme whose settings predate the log (entered
 * as `recorded`) is checked from then on only.
 */
function requiredDocumentDifferences(db: Db, settings: readonly SettingEntry[]): FactDifference[] {
  const programmeOfEntry = (entry: SettingEntry) => Number(entry.key.split('/')[0]);
  const requirements = new Map<number, Map<string, DocumentRequirement>>();
  const programmeRows = new Map<number, SettingRow>();
  const knownAfter = new Map<number, number>();
  for (const entry of settings) {
    const programmeId = programmeOfEntry(entry);
    if (!knownAfter.has(programmeId)) knownAfter.set(programmeId, entry.recorded ? entry.ledgerPosition : 0);
  }
  let next = 0;
  const apply = (until: number) => {
    // An entry written after event L falls before event L + 1.
    while (next < settings.length && settings[next]!.ledgerPosition < until) {
      const entry = settings[next]!;
      next += 1;
      const programmeId = programmeOfEntry(entry);
      if (entry.table === 'programmes') {
        if (entry.row) programmeRows.set(programmeId, entry.row);
        continue;
      }
      if (entry.table !== 'document_requirements') continue;
      const rows = requirements.get(programmeId) ?? new Map<string, DocumentRequirement>();
      requirements.set(programmeId, rows);
      if (entry.row === null) {
        rows.delete(entry.key);
        continue;
      }
      const row = entry.row;
      rows.set(entry.key, {
        projectType: row.project_type as RequirementProjectType,
        kind: row.kind as DocumentKind,
        required: Boolean(row.required),
        fileTypes: JSON.parse(String(row.file_types)) as FileTypeKey[],
        maxBytes: Number(row.max_bytes),
      });
    }
  };
  const projectTypeOf = new Map<string, string | null>();
  const programmeOf = new Map<string, number>();
  const found: FactDifference[] = [];
  const rows = statement<[], ApplicationEventRow>(
    db,
    `SELECT position, stream_id AS streamId, seq, type, payload, facts FROM events
     WHERE machine_id = 'application' AND type IN ('create', 'update', 'submit', 'accept', 'attach-document', 'sign-agreement', 'sign-contract') ORDER BY position`,
  );
  for (const row of rows.iterate()) {
    if (row.type === 'create' || row.type === 'update') {
      const payload = JSON.parse(row.payload) as { programmeId?: number; form?: { projectType?: string | null }; projectType?: string | null };
      if (row.type === 'create') {
        if (typeof payload.programmeId === 'number') programmeOf.set(row.streamId, payload.programmeId);
        projectTypeOf.set(row.streamId, payload.form?.projectType ?? null);
      } else if (payload.projectType !== undefined) {
        projectTypeOf.set(row.streamId, payload.projectType);
      }
      continue;
    }
    const programmeId = programmeOf.get(row.streamId);
    if (programmeId === undefined) continue;
    const from = knownAfter.get(programmeId);
    if (from === undefined || row.position <= from) continue;
    apply(row.position);
    const facts = JSON.parse(row.facts) as { requiredDocuments?: unknown; documentRules?: unknown; rules?: unknown; savingsRule?: unknown };
    const differ = (name: string, stored: unknown, derived: unknown) => {
      const storedText = canonicalJson(stored ?? null);
      const derivedText = canonicalJson(derived ?? null);
      if (storedText !== derivedText) found.push({ table: 'events', key: `${row.streamId}/${row.seq}`, column: `facts.${name}`, stored: storedText, derived: derivedText, stream: row.streamId, seq: row.seq, position: row.position });
    };
    const rules = effectiveRules([...(requirements.get(programmeId)?.values() ?? [])], projectTypeOf.get(row.streamId));
    const programme = programmeRows.get(programmeId);
    if (row.type === 'submit' || row.type === 'accept') {
      // None required, no fact (the kind's `facts`).
      const required = rules.filter((rule) => rule.required).map((rule) => rule.kind);
      differ('requiredDocuments', facts.requiredDocuments ?? [], required);
    }
    if (row.type === 'attach-document') differ('documentRules', facts.documentRules, rules);
    if ((row.type === 'submit' || row.type === 'sign-agreement') && programme) {
      differ('rules', facts.rules, { capKopecks: programme.cap_kopecks, minLocalShareBp: programme.min_local_share_bp, minResidentsShareBp: programme.min_residents_share_bp });
    }
    if (row.type === 'sign-contract' && programme) {
      const rule = programme.savings_rule;
      differ('savingsRule', facts.savingsRule, rule === 'keep' || rule === 'refund' ? rule : undefined);
    }
  }
  return found;
}
