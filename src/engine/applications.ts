import { sql } from 'drizzle-orm';
import type { AnyMachineSnapshot } from 'xstate';
import { applications, municipalities, programmes } from '../db/schema.ts';
import {
  formPatchSchema,
  submitProblems,
  totalCostKopecks,
  type ApplicationForm,
  type ProgrammeRules,
} from '../domain/application.ts';
import type { Actor } from '../domain/roles.ts';
import { applicationEventRoles, applicationMachineId, type ApplicationContext } from '../../machines/application.ts';
import type { AppliedEvent, Engine, EventRow, StreamRow } from './engine.ts';
import { commissionProjection } from './commission.ts';
import { ForbiddenError, NotAllowedError, NotFoundError, ValidationError } from './errors.ts';
import { assertStageOpen, stageOpenFor, stageReads } from './stages.ts';
import { documentRequirementReads } from './document-requirements.ts';
import { missingDocuments, unacceptedDocuments } from '../domain/documents.ts';
import { zodProblems } from './engine.ts';

export type ApplicationRow = typeof applications.$inferSelect;

export const applicationStreamId = (id: number) => `application-${id}`;

/** Applicants see their own municipality only; everyone else sees every application. */
export function maySee(actor: Actor, municipalityId: number): boolean {
  return actor.role !== 'applicant' || actor.municipalityId === municipalityId;
}

/**
 * The application side of the write path: programme rules as facts for `submit`, the reasons a
 * refused `submit` gives, and the list projection kept in the same transaction.
 */
export function installApplicationHooks(engine: Engine): void {
  const db = engine.db;
  const rulesOf = db
    .select({
      capKopecks: programmes.capKopecks,
      minLocalShareBp: programmes.minLocalShareBp,
      minResidentsShareBp: programmes.minResidentsShareBp,
    })
    .from(programmes)
    .innerJoin(applications, sql`${applications.programmeId} = ${programmes.id}`)
    .where(sql`${applications.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();
  const project = db
    .update(applications)
    .set({
      title: sql`${sql.placeholder('title')}`,
      projectType: sql`${sql.placeholder('projectType')}`,
      settlement: sql`${sql.placeholder('settlement')}`,
      search: sql`${sql.placeholder('search')}`,
      state: sql`${sql.placeholder('state')}`,
      version: sql`${sql.placeholder('version')}`,
      subsidyKopecks: sql`${sql.placeholder('subsidyKopecks')}`,
      totalKopecks: sql`${sql.placeholder('totalKopecks')}`,
      awardedKopecks: sql`${sql.placeholder('awardedKopecks')}`,
      firstSubmittedAt: sql`${sql.placeholder('firstSubmittedAt')}`,
      updatedAt: sql`${sql.placeholder('updatedAt')}`,
    })
    .where(sql`${applications.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();

  const programmeOf = db
    .select({ programmeId: applications.programmeId })
    .from(applications)
    .where(sql`${applications.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();
  const stages = stageReads(db);
  const projectForCommission = commissionProjection(db);
  const documentRules = documentRequirementReads(db);

  engine.hook(applicationMachineId, {
    facts(stream, type) {
      const programmeId = programmeOf.get({ streamId: stream.id })?.programmeId;
      const activeStages = programmeId === undefined ? [] : stages.activeStageKeys(programmeId);
      // The documents the programme asks for now, stored with the event (issue 7); none asked, no fact.
      const required = type === 'submit' || type === 'accept' ? documentRules.rulesForStream(stream.id).filter((rule) => rule.required).map((rule) => rule.kind) : [];
      const documents =
        required.length > 0 ? { requiredDocuments: required } : type === 'attach-document' ? { documentRules: documentRules.rulesForStream(stream.id) } : {};
      if (type !== 'submit') return { activeStages, ...documents };
      const rules = rulesOf.get({ streamId: stream.id });
      return rules ? { activeStages, rules, ...documents } : { activeStages, ...documents };
    },
    explainRefusal(_stream, snapshot, type, facts) {
      assertStageOpen(type, (facts.activeStages as string[] | undefined) ?? []);
      const context = snapshot.context as ApplicationContext;
      const required = (facts.requiredDocuments as string[] | undefined) ?? [];
      if (type === 'accept') return unacceptedDocuments(context.documents, required);
      if (type === 'return-for-revision') return [{ field: 'remarks', code: 'remarks-required' }];
      if (type === 'review-document') return [{ field: 'kind', code: 'document-missing' }];
      if (type === 'attach-document') return [{ field: 'file', code: 'document-type-not-accepted' }];
      if (type !== 'submit') return [];
      return [...(facts.rules ? submitProblems(context.form, facts.rules as ProgrammeRules) : []), ...missingDocuments(context.documents, required)];
    },
    project(stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) {
      const context = snapshot.context as ApplicationContext;
      project.run({
        streamId: stream.id,
        title: context.form.title ?? '',
        projectType: context.form.projectType ?? null,
        settlement: context.form.settlement ?? null,
        search: `${context.form.title ?? ''} ${context.form.settlement ?? ''}`.toLocaleLowerCase('ru'),
        state: stream.state,
        version: stream.version,
        subsidyKopecks: context.form.costs?.subsidy ?? 0,
        totalKopecks: totalCostKopecks(context.form.costs),
        awardedKopecks: context.awardedKopecks,
        firstSubmittedAt: context.firstSubmittedAt,
        updatedAt: stream.updatedAt,
      });
      projectForCommission(stream, snapshot, event);
    },
  });
}

/** Creates a draft for the applicant's own municipality. A draft may be incomplete; its fields must still be well-formed. */
export function createApplication(
  engine: Engine,
  actor: Actor,
  input: { programmeId: unknown; form: unknown },
): AppliedEvent & { id: number } {
  // The role first, as `apply` does: a reviewer is refused as a reviewer, not for lacking a municipality.
  if (!engine.registry.latest(applicationMachineId).createRoles.includes(actor.role)) {
    throw new ForbiddenError(`the role ${actor.role} may not create an application`);
  }
  const parsedForm = formPatchSchema.safeParse(input.form ?? {});
  const problems = parsedForm.success ? [] : zodProblems(parsedForm.error);
  const programmeId = typeof input.programmeId === 'number' && Number.isInteger(input.programmeId) ? input.programmeId : NaN;
  if (Number.isNaN(programmeId)) problems.push({ field: 'programmeId', code: 'required' });
  if (actor.municipalityId === null) problems.push({ field: 'municipalityId', code: 'required' });
  if (!parsedForm.success || problems.length > 0) throw new ValidationError('the application is invalid', problems);
  const form: ApplicationForm = parsedForm.data;
  const db = engine.db;
  return engine.transaction(() => {
    const programme = db.select({ id: programmes.id }).from(programmes).where(sql`${programmes.id} = ${programmeId}`).get();
    if (!programme) throw new ValidationError('no such programme', [{ field: 'programmeId', code: 'unknown' }]);
    const municipality = db
      .select({ id: municipalities.id })
      .from(municipalities)
      .where(sql`${municipalities.id} = ${actor.municipalityId}`)
      .get();
    if (!municipality) throw new ValidationError('no such municipality', [{ field: 'municipalityId', code: 'unknown' }]);
    // Applications are created only while a stage that owns `create` is active.
    const activeStages = stageReads(db).activeStageKeys(programmeId);
    assertStageOpen('create', activeStages);
    const next = db.$client.prepare<[], { id: number }>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM applications').get()!.id;
    const streamId = applicationStreamId(next);
    const applied = engine.create({
      streamId,
      kind: 'application',
      machineId: applicationMachineId,
      input: { programmeId, municipalityId: municipality.id, form },
      actor,
      facts: { activeStages },
      afterCreate: (stream) => {
        db.insert(applications)
          .values({
            id: next,
            streamId,
            programmeId,
            municipalityId: municipality.id,
            title: form.title ?? '',
            state: stream.state,
            version: stream.version,
            createdAt: stream.updatedAt,
            updatedAt: stream.updatedAt,
          })
          .run();
      },
    });
    return { ...applied, id: next };
  });
}

/** Loads the application row; one the actor may not see is reported as not found. */
export function findApplication(engine: Engine, actor: Actor, id: number): ApplicationRow {
  const row = engine.db.select().from(applications).where(sql`${applications.id} = ${id}`).get();
  if (!row || !maySee(actor, row.municipalityId)) throw new NotFoundError(`application ${id} not found`);
  return row;
}

/**
 * The events about documents (issue 7): `attach-document` is written only by the upload, which
 * stores the file first (src/engine/documents.ts); both are offered apart from the other events.
 */
export const documentEventTypes: readonly string[] = ['attach-document', 'review-document'];

/**
 * The events of the commission's decision (issue 5): `award` and `not-award` are sent only by
 * `recordDecision`, to every accepted application at once and by the ranking, so that no single
 * application can be awarded an amount the ranking did not allocate.
 */
export const decisionEventTypes: readonly string[] = ['award', 'not-award'];

/** Sends one event to an application, through the engine's one write path. */
export function sendApplicationEvent(
  engine: Engine,
  actor: Actor,
  id: number,
  type: string,
  payload: unknown,
  expectedVersion: number,
): AppliedEvent {
  // An attach-document sent as a plain event would name a file nobody stored.
  if (type === 'attach-document') {
    findApplication(engine, actor, id);
    if (!applicationEventRoles['attach-document'].includes(actor.role)) throw new ForbiddenError(`the role ${actor.role} may not send attach-document`);
    throw new NotAllowedError('a document is attached by uploading its file (POST /api/applications/:id/documents)', { type }, 'documents.refused.uploadOnly');
  }
  if (decisionEventTypes.includes(type)) {
    const row = findApplication(engine, actor, id);
    if (!applicationEventRoles[type as 'award'].includes(actor.role)) throw new ForbiddenError(`the role ${actor.role} may not send ${type}`);
    throw new NotAllowedError(
      `${type} is sent only by the commission's decision for the whole ranking (POST /api/programmes/${row.programmeId}/decision)`,
      { type, programmeId: row.programmeId },
      'commission.refused.decisionOnly',
    );
  }
  return engine.apply(applicationStreamId(id), { type, payload }, expectedVersion, actor, () => {
    findApplication(engine, actor, id);
  });
}

/**
 * The events this actor may send to this application now: its state takes them, the role may, a
 * stage owning them is active. The document events are offered by `allowedDocumentEvents`.
 */
export function allowedApplicationEvents(engine: Engine, actor: Actor, row: ApplicationRow): string[] {
  return allowedEvents(engine, actor, row).filter((type) => !documentEventTypes.includes(type) && !decisionEventTypes.includes(type));
}

/** The document events (attach, review) this actor may send to this application now. */
export function allowedDocumentEvents(engine: Engine, actor: Actor, row: ApplicationRow): string[] {
  return allowedEvents(engine, actor, row).filter((type) => documentEventTypes.includes(type));
}

function allowedEvents(engine: Engine, actor: Actor, row: ApplicationRow): string[] {
  if (!maySee(actor, row.municipalityId)) return [];
  const stream = engine.loadStream(row.streamId);
  if (!stream) return [];
  const entry = engine.registry.get(stream.machineId, stream.machineVersion);
  if (!entry) return [];
  const activeStages = stageReads(engine.db).activeStageKeys(row.programmeId);
  return engine.eventsInState(stream).filter((type) => entry.eventRoles[type]?.includes(actor.role) && stageOpenFor(type, activeStages));
}

export function applicationContext(engine: Engine, row: ApplicationRow): ApplicationContext {
  const stream = engine.loadStream(row.streamId);
  if (!stream) throw new NotFoundError();
  return (JSON.parse(stream.snapshot) as { context: ApplicationContext }).context;
}
