import type { Db } from '../db/client.ts';
import { perDatabase } from '../db/statements.ts';
import { fundSources, type Amounts, type FundSource, type MilestoneKind } from '../domain/implementation.ts';

/**
 * The public projection (issue 15): everything the portal and its JSON show, read by statements
 * of its own that name only public columns. Nothing here reads a person (users, actors, payers,
 * inspectors, members), a remark, a reason, a message, a member's score or a document the
 * applicants uploaded; the staff page models are never reused with things hidden. A column added
 * here is a column published: the test in test/int/public-portal.int.test.ts holds every page and
 * JSON to the list of fields below.
 */

/** What the public is told of an application's state: never "draft", never the workflow's inner steps. */
export const publicStatuses = ['under-review', 'admitted', 'not-admitted', 'winner', 'not-winner', 'being-built', 'completed', 'withdrawn', 'terminated'] as const;
export type PublicStatus = (typeof publicStatuses)[number];

export function publicStatus(state: string): PublicStatus | null {
  if (state === 'draft') return null;
  if (state === 'submitted' || state === 'under-review' || state === 'returned') return 'under-review';
  if (state === 'accepted') return 'admitted';
  if (state === 'rejected') return 'not-admitted';
  if (state === 'awarded') return 'winner';
  if (state === 'not-awarded') return 'not-winner';
  if (state === 'implementation.completed' || state === 'closed') return 'completed';
  if (state.startsWith('implementation.')) return 'being-built';
  if (state === 'withdrawn') return 'withdrawn';
  if (state === 'terminated') return 'terminated';
  return null;
}

/** The states of a project the portal has a page for: a winner, from the award on. */
export const WINNER_STATES_SQL = `(a.state = 'awarded' OR a.state LIKE 'implementation.%' OR a.state = 'closed' OR (a.state = 'terminated' AND a.awarded_kopecks IS NOT NULL))`;

export interface PublicProgramme {
  id: number;
  title: string;
  year: number;
  region: string;
  timeZone: string;
  fundKopecks: number;
  capKopecks: number;
  minLocalShareBp: number;
  minResidentsShareBp: number;
}

export interface PublicStage {
  no: number;
  key: string;
  state: string;
  plannedStart: string | null;
  plannedEnd: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface PublicAnnouncement {
  heldOn: string;
  title: string;
  channel: string | null;
  text: string | null;
  link: string | null;
}

export interface PublicRequirement {
  projectType: string;
  kind: string;
  required: boolean;
}

export interface PublicApplication {
  id: number;
  registrationNo: string | null;
  title: string;
  municipality: string;
  settlement: string | null;
  projectType: string | null;
  state: string;
  costs: Amounts;
  totalKopecks: number;
  awardedKopecks: number | null;
  submittedAt: string | null;
}

export interface PublicRankingRow {
  rank: number;
  applicationId: number;
  registrationNo: string | null;
  title: string;
  municipality: string;
  settlement: string | null;
  totalCenti: number;
  requestedKopecks: number;
  allocatedKopecks: number;
  outcome: string;
}

export interface PublicDecision {
  decidedAt: string;
  recordHash: string;
  ledgerHead: string;
  ledgerEvents: number;
  membersPresent: number;
  fundKopecks: number;
  allocatedKopecks: number;
  fundLeftKopecks: number;
  heldOn: string | null;
  place: string | null;
}

export interface PublicProject extends PublicApplication {
  programmeId: number;
  problem: string | null;
  description: string | null;
  durationMonths: number | null;
  progressPercent: number;
  agreement: { signedOn: string | null; amounts: Amounts | null } | null;
  received: Amounts;
  contract: { signedOn: string | null; priceKopecks: number } | null;
  spent: Amounts | null;
  milestones: { kind: MilestoneKind; on: string }[];
  photos: { seq: number; sha256: string; mediaType: string; takenDuring: 'works' | 'monitoring' }[];
  visits: { visitedOn: string; verdict: 'ok' | 'issues'; resolved: boolean }[];
  /** The documents of the kinds the programme publishes, once the reviewer accepted them: by kind, never by the name they were uploaded under. */
  documents: { kind: string; sha256: string; mediaType: string }[];
}

const PROGRAMME = `id, title, year, region, time_zone AS timeZone, fund_kopecks AS fundKopecks, cap_kopecks AS capKopecks,
  min_local_share_bp AS minLocalShareBp, min_residents_share_bp AS minResidentsShareBp`;

const APPLICATION = `a.id, a.registration_no AS registrationNo, a.title, m.name AS municipality, a.settlement, a.project_type AS projectType, a.state,
  COALESCE(sc.subsidy_kopecks, 0) AS subsidy, COALESCE(sc.local_budget_kopecks, 0) AS localBudget, COALESCE(sc.residents_kopecks, 0) AS residents,
  COALESCE(sc.business_kopecks, 0) AS business, a.awarded_kopecks AS awardedKopecks, a.first_submitted_at AS submittedAt`;
const APPLICATION_FROM = `applications a JOIN municipalities m ON m.id = a.municipality_id LEFT JOIN application_scoring sc ON sc.application_id = a.id`;
/** Submitted at least once: a draft never shows, nor one withdrawn before it was ever sent. */
const SUBMITTED = `a.state <> 'draft' AND a.first_submitted_at IS NOT NULL`;

type ApplicationRow = Omit<PublicApplication, 'costs' | 'totalKopecks'> & Amounts;
const toApplication = ({ subsidy, localBudget, residents, business, ...rest }: ApplicationRow): PublicApplication => ({
  ...rest,
  costs: { subsidy, localBudget, residents, business },
  totalKopecks: subsidy + localBudget + residents + business,
});

const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const statements = perDatabase((db: Db) => {
  const sqlite = db.$client;
  return {
    programmes: sqlite.prepare<[], PublicProgramme>(`SELECT ${PROGRAMME} FROM programmes ORDER BY year DESC, id DESC`),
    programme: sqlite.prepare<[number], PublicProgramme>(`SELECT ${PROGRAMME} FROM programmes WHERE id = ?`),
    stages: sqlite.prepare<[number], PublicStage>(
      `SELECT no, key, state, planned_start AS plannedStart, planned_end AS plannedEnd, started_at AS startedAt, completed_at AS completedAt
       FROM stages WHERE programme_id = ? ORDER BY no`,
    ),
    // The weights only: the members' rating is one criterion among them, never a member's grade.
    criteria: sqlite.prepare<[number], { key: string; weight: number; fullAtBp: number | null }>(
      `SELECT c.value ->> '$.key' AS key, c.value ->> '$.weight' AS weight, c.value ->> '$.fullAtBp' AS fullAtBp
       FROM commission_settings s, json_each(s.criteria) c WHERE s.programme_id = ? ORDER BY c.key`,
    ),
    requirements: sqlite.prepare<[number], { projectType: string; kind: string; required: number }>(
      `SELECT project_type AS projectType, kind, required FROM document_requirements WHERE programme_id = ? ORDER BY project_type, id`,
    ),
    // An announcement is published by its nature; what the journal knows of who recorded it is not read.
    announcements: sqlite.prepare<[number], PublicAnnouncement>(
      `SELECT e.held_on AS heldOn, e.summary AS title, s.snapshot ->> '$.context.fields.channel' AS channel,
              s.snapshot ->> '$.context.fields.text' AS text, s.snapshot ->> '$.context.fields.link' AS link
       FROM journal_entries e JOIN streams s ON s.id = e.stream_id
       WHERE e.programme_id = ? AND e.kind = 'announcement' AND e.state = 'recorded' ORDER BY e.held_on, e.id`,
    ),
    applications: sqlite.prepare<[number], ApplicationRow>(
      `SELECT ${APPLICATION} FROM ${APPLICATION_FROM} WHERE a.programme_id = ? AND ${SUBMITTED} ORDER BY a.registration_seq IS NULL, a.registration_seq, a.first_submitted_at, a.id`,
    ),
    decision: sqlite.prepare<[number], Omit<PublicDecision, 'heldOn' | 'place'> & { id: number }>(
      `SELECT id, decided_at AS decidedAt, record_hash AS recordHash, ledger_head AS ledgerHead, ledger_events AS ledgerEvents,
              json_array_length(members_present) AS membersPresent, record ->> '$.availableKopecks' AS fundKopecks,
              record ->> '$.allocatedKopecks' AS allocatedKopecks, record ->> '$.fundLeftKopecks' AS fundLeftKopecks
       FROM commission_decisions WHERE programme_id = ?`,
    ),
    meeting: sqlite.prepare<[number], { heldOn: string | null; place: string | null }>('SELECT held_on AS heldOn, place FROM commission_meetings WHERE decision_id = ?'),
    // The ranking as decided, from the decision's own record: points in total, never the members' scores in it.
    ranking: sqlite.prepare<[number], PublicRankingRow>(
      `SELECT r.value ->> '$.rank' AS rank, r.value ->> '$.applicationId' AS applicationId, a.registration_no AS registrationNo,
              r.value ->> '$.title' AS title, r.value ->> '$.municipality' AS municipality, r.value ->> '$.settlement' AS settlement,
              r.value ->> '$.totalCenti' AS totalCenti, r.value ->> '$.requestedKopecks' AS requestedKopecks,
              r.value ->> '$.allocatedKopecks' AS allocatedKopecks, r.value ->> '$.outcome' AS outcome
       FROM commission_decisions d, json_each(d.record, '$.rows') r LEFT JOIN applications a ON a.id = r.value ->> '$.applicationId'
       WHERE d.programme_id = ? ORDER BY r.key`,
    ),
    project: sqlite.prepare<[string, number, number], ApplicationRow & Record<string, unknown>>(
      `SELECT ${APPLICATION}, a.programme_id AS programmeId, a.progress_percent AS progressPercent,
              s.snapshot ->> '$.context.form.problem' AS problem, s.snapshot ->> '$.context.form.description' AS description,
              s.snapshot ->> '$.context.form.durationMonths' AS durationMonths,
              s.snapshot -> '$.context.agreement.amounts' AS agreedAmounts, s.snapshot ->> '$.context.agreement.signedOn' AS agreedOn,
              s.snapshot ->> '$.context.agreement.agreementNo' AS agreementNo,
              s.snapshot ->> '$.context.contract.signedOn' AS contractOn, s.snapshot ->> '$.context.contract.priceKopecks' AS contractPrice,
              s.snapshot -> '$.context.spending.actual' AS spent,
              (SELECT json_group_array(json_object('source', c.value ->> '$.source', 'amount', c.value ->> '$.amountKopecks'))
                 FROM json_each(s.snapshot, '$.context.contributions') c WHERE c.value -> '$.cancelled' IS NULL OR c.value ->> '$.cancelled' IS NULL) AS contributions,
              (SELECT json_group_array(json_object('kind', m.value ->> '$.kind', 'on', m.value ->> '$.on'))
                 FROM json_each(s.snapshot, '$.context.milestones') m) AS milestones,
              (SELECT json_group_array(json_object('seq', e.value ->> '$.seq', 'sha256', e.value ->> '$.sha256', 'mediaType', e.value ->> '$.mediaType', 'takenDuring', e.value ->> '$.state'))
                 FROM json_each(s.snapshot, '$.context.evidence') e WHERE e.value ->> '$.kind' = 'photo') AS photos,
              (SELECT json_group_array(json_object('visitedOn', v.value ->> '$.visitedOn', 'verdict', v.value ->> '$.verdict', 'resolved', json(CASE WHEN v.value ->> '$.resolution' IS NULL THEN 'false' ELSE 'true' END)))
                 FROM json_each(s.snapshot, '$.context.visits') v) AS visits,
              (SELECT json_group_array(json_object('kind', d.key, 'sha256', d.value ->> '$.file.sha256', 'mediaType', d.value ->> '$.file.mediaType'))
                 FROM json_each(s.snapshot, '$.context.documents') d
                 WHERE d.value ->> '$.verdict' = 'accepted' AND d.value ->> '$.file.sha256' IS NOT NULL AND d.key IN (SELECT k.value FROM json_each(?) k)) AS documents
       FROM ${APPLICATION_FROM} JOIN streams s ON s.id = a.stream_id
       WHERE a.programme_id = ? AND a.id = ? AND ${WINNER_STATES_SQL}`,
    ),
    // The public routes' photos: only a photo of a winning project, by its hash.
    photo: sqlite.prepare<[number, number, string], { mediaType: string }>(
      `SELECT e.value ->> '$.mediaType' AS mediaType FROM applications a JOIN streams s ON s.id = a.stream_id, json_each(s.snapshot, '$.context.evidence') e
       WHERE a.programme_id = ? AND a.id = ? AND ${WINNER_STATES_SQL} AND e.value ->> '$.kind' = 'photo' AND e.value ->> '$.sha256' = ? LIMIT 1`,
    ),
    // A published document of a winning project: accepted, of a kind the programme publishes, by its hash.
    document: sqlite.prepare<[number, number, string, string], { kind: string; mediaType: string }>(
      `SELECT d.key AS kind, d.value ->> '$.file.mediaType' AS mediaType FROM applications a JOIN streams s ON s.id = a.stream_id, json_each(s.snapshot, '$.context.documents') d
       WHERE a.programme_id = ? AND a.id = ? AND ${WINNER_STATES_SQL} AND d.value ->> '$.verdict' = 'accepted' AND d.value ->> '$.file.sha256' = ?
         AND d.key IN (SELECT k.value FROM json_each(?) k) LIMIT 1`,
    ),
    // The ledger's position: the greatest position is the last row of the events' primary key, one seek.
    ledger: sqlite.prepare<[], { position: number | null; at: string | null }>('SELECT position, at FROM events ORDER BY position DESC LIMIT 1'),
    // The settings kept outside the ledger that the portal shows: when any of them last changed, and the municipalities' names.
    settings: sqlite.prepare<[], { stamp: string | null }>(
      `SELECT COALESCE((SELECT MAX(updated_at) FROM commission_settings), '') || '|' || COALESCE((SELECT MAX(updated_at) FROM document_requirements), '') || '|' ||
              (SELECT COUNT(*) FROM document_requirements) || '|' || (SELECT COUNT(*) FROM programmes) || '|' ||
              COALESCE((SELECT MAX(updated_at) FROM programme_public_settings), '') || '|' ||
              -- Municipalities are renamed by an admin outside the ledger; a region has a few hundred at most.
              COALESCE((SELECT group_concat(id || '=' || name, ',') FROM municipalities), '') AS stamp`,
    ),
  };
});

export function publicProgrammes(db: Db): PublicProgramme[] {
  return statements(db).programmes.all();
}

export function publicProgramme(db: Db, id: number): PublicProgramme | undefined {
  return statements(db).programme.get(id);
}

export function publicStages(db: Db, programmeId: number): PublicStage[] {
  return statements(db).stages.all(programmeId);
}

export function publicCriteria(db: Db, programmeId: number): { key: string; weight: number; fullAtBp: number | null }[] {
  return statements(db)
    .criteria.all(programmeId)
    .filter((c) => c.weight > 0);
}

export function publicRequirements(db: Db, programmeId: number): PublicRequirement[] {
  return statements(db)
    .requirements.all(programmeId)
    .map((r) => ({ projectType: r.projectType, kind: r.kind, required: r.required === 1 }));
}

export function publicAnnouncements(db: Db, programmeId: number): PublicAnnouncement[] {
  return statements(db).announcements.all(programmeId);
}

export function publicApplications(db: Db, programmeId: number): PublicApplication[] {
  return statements(db).applications.all(programmeId).map(toApplication);
}

export function publicDecision(db: Db, programmeId: number): PublicDecision | null {
  const row = statements(db).decision.get(programmeId);
  if (!row) return null;
  const { id, ...decision } = row;
  const meeting = statements(db).meeting.get(id);
  return { ...decision, heldOn: meeting?.heldOn ?? null, place: meeting?.place ?? null };
}

export function publicRanking(db: Db, programmeId: number): PublicRankingRow[] {
  return statements(db).ranking.all(programmeId);
}

export function publicProject(db: Db, programmeId: number, id: number, documentKinds: readonly string[]): PublicProject | undefined {
  const row = statements(db).project.get(JSON.stringify(documentKinds), programmeId, id);
  if (!row) return undefined;
  const { programmeId: programme, progressPercent, problem, description, durationMonths, agreedAmounts, agreedOn, agreementNo, contractOn, contractPrice, spent, contributions, milestones, photos, visits, documents, ...application } = row;
  const received: Amounts = { subsidy: 0, localBudget: 0, residents: 0, business: 0 };
  const sourceKey = (source: string): FundSource | undefined => {
    const key = source === 'local-budget' ? 'localBudget' : source;
    return (fundSources as readonly string[]).includes(key) ? (key as FundSource) : undefined;
  };
  for (const c of json<{ source: string; amount: number }[]>(contributions as string) ?? []) {
    const key = sourceKey(c.source);
    if (key) received[key] += c.amount;
  }
  const amounts = json<Amounts>(agreedAmounts as string | null);
  return {
    ...toApplication(application as ApplicationRow),
    programmeId: programme as number,
    problem: (problem as string | null) ?? null,
    description: (description as string | null) ?? null,
    durationMonths: (durationMonths as number | null) ?? null,
    progressPercent: progressPercent as number,
    agreement: amounts || agreementNo ? { signedOn: (agreedOn as string | null) ?? null, amounts: amounts ? pick(amounts) : null } : null,
    received,
    contract: contractPrice !== null && contractPrice !== undefined ? { signedOn: (contractOn as string | null) ?? null, priceKopecks: Number(contractPrice) } : null,
    spent: spent ? pick(json<Amounts>(spent as string)!) : null,
    milestones: json<PublicProject['milestones']>(milestones as string) ?? [],
    photos: json<PublicProject['photos']>(photos as string) ?? [],
    visits: json<PublicProject['visits']>(visits as string) ?? [],
    documents: json<PublicProject['documents']>(documents as string) ?? [],
  };
}

/** The four sources of a stored amount, and nothing else it may carry. */
const pick = (amounts: Amounts): Amounts => ({ subsidy: amounts.subsidy ?? 0, localBudget: amounts.localBudget ?? 0, residents: amounts.residents ?? 0, business: amounts.business ?? 0 });

export function publicDocument(db: Db, programmeId: number, id: number, sha256: string, documentKinds: readonly string[]): { kind: string; mediaType: string } | undefined {
  return statements(db).document.get(programmeId, id, sha256, JSON.stringify(documentKinds));
}

export function publicPhoto(db: Db, programmeId: number, id: number, sha256: string): { mediaType: string } | undefined {
  return statements(db).photo.get(programmeId, id, sha256);
}

/**
 * Where the public data stands: the ledger's last position (every application, stage, journal
 * and decision change is an event) and the settings kept beside it. The portal's ETag is made of
 * this, so that a conditional request costs these two lookups.
 */
export function publicPosition(db: Db): { position: number; at: string | null; settings: string } {
  const s = statements(db);
  const head = s.ledger.get();
  return { position: head?.position ?? 0, at: head?.at ?? null, settings: s.settings.get()?.stamp ?? '' };
}
