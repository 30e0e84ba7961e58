import type { Db } from '../../db/client.ts';
import type { applications } from '../../db/schema.ts';
import { perDatabase } from '../../db/statements.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine, EventOption, StreamRow } from '../../engine/engine.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { applicationEventChannels, assignmentEventTypes, documentEventTypes, type ApplicationContext } from '../../../machines/application.ts';

export type ApplicationRow = typeof applications.$inferSelect;

export const applicationStreamId = (id: number) => `application-${id}`;

/** Applicants see their own municipality only; everyone else sees every application. */
export function maySeeMunicipality(actor: Actor, municipalityId: number): boolean {
  return actor.role !== 'applicant' || actor.municipalityId === municipalityId;
}

const APPLICATION_COLUMNS = `id, stream_id AS streamId, programme_id AS programmeId, municipality_id AS municipalityId, title, project_type AS projectType,
  settlement, search, state, version, subsidy_kopecks AS subsidyKopecks, total_kopecks AS totalKopecks, awarded_kopecks AS awardedKopecks,
  first_submitted_at AS firstSubmittedAt, registration_no AS registrationNo, registration_seq AS registrationSeq, created_at AS createdAt, updated_at AS updatedAt`;

export const applicationReads = perDatabase((db: Db) => {
  const byId = db.$client.prepare<[number], ApplicationRow>(`SELECT ${APPLICATION_COLUMNS} FROM applications WHERE id = ?`);
  const byStream = db.$client.prepare<[string], { id: number; programmeId: number; municipalityId: number; projectType: string | null }>(
    'SELECT id, programme_id AS programmeId, municipality_id AS municipalityId, project_type AS projectType FROM applications WHERE stream_id = ?',
  );
  return {
    byId: (id: number): ApplicationRow | undefined => byId.get(id),
    /** The list row's keys for a stream: what the write path's facts and visibility read. */
    ofStream: (streamId: string) => byStream.get(streamId),
  };
});

/** Loads the application row; one the actor may not see is reported as not found. */
export function findApplication(db: Db, actor: Actor, id: number): ApplicationRow {
  const row = applicationReads(db).byId(id);
  if (!row || !maySeeMunicipality(actor, row.municipalityId)) throw new NotFoundError(`application ${id} not found`);
  return row;
}

/** One application as a page shows it: the list row, its stream and its context, loaded once. */
export interface LoadedApplication {
  row: ApplicationRow;
  stream: StreamRow;
  context: ApplicationContext;
}

export function loadApplication(engine: Engine, actor: Actor, id: number): LoadedApplication {
  const row = findApplication(engine.db, actor, id);
  const stream = engine.loadStream(row.streamId);
  if (!stream) throw new NotFoundError(`application ${id} not found`);
  return { row, stream, context: (JSON.parse(stream.snapshot) as { context: ApplicationContext }).context };
}

/**
 * What the actor may do with the application now, from its machine's rules (`whyNotApplication`),
 * in the three groups the pages show apart: the workflow's buttons, the documents card, and none
 * for the events only another path sends (an upload, the commission's decision).
 */
export interface ApplicationOptions {
  /** The events offered as actions (and listed as the API's `allowedEvents`). */
  actions: EventOption[];
  /** `attach-document` and `review-document`, offered on the documents card. */
  documents: EventOption[];
  /** Every event the state takes and the role may send, open or not (the decision's included). */
  all: EventOption[];
  /** `assign`, `take` and `release`, offered beside the assignee (issue 16). */
  assignment: EventOption[];
}

export function applicationOptions(engine: Engine, actor: Actor, stream: StreamRow): ApplicationOptions {
  const all = engine.eventOptions(stream, actor);
  const open = all.filter((option) => option.open);
  const channelled = (type: string) => Object.hasOwn(applicationEventChannels, type) && !documentEventTypes.includes(type as never);
  const grouped = (type: string) => documentEventTypes.includes(type as never) || assignmentEventTypes.includes(type as never);
  return {
    actions: open.filter((option) => !grouped(option.type) && !channelled(option.type)),
    documents: open.filter((option) => documentEventTypes.includes(option.type as never)),
    all,
    assignment: open.filter((option) => assignmentEventTypes.includes(option.type as never)),
  };
}

/** The events the API lists as `allowedEvents`: the actions, without the documents, the assignment and the decision's. */
export const allowedEventTypes = (options: ApplicationOptions): string[] => options.actions.map((option) => option.type);
