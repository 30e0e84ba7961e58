import { formPatchSchema, type ApplicationForm } from '../../domain/application.ts';
import { statement } from '../../db/statements.ts';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import type { AppliedEvent, Engine } from '../../engine/engine.ts';
import { ForbiddenError, ValidationError } from '../../engine/errors.ts';
import { applicationMachineId } from '../../../machines/application.ts';
import { stageReads } from '../stage/reads.ts';
import { applicationStreamId } from './reads.ts';

/** Creates a draft for the applicant's own municipality. A draft may be incomplete; its fields must still be well-formed. */
export function createApplication(engine: Engine, actor: Actor, input: { programmeId: unknown; form: unknown }): AppliedEvent & { id: number } {
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
    if (!statement<[number]>(db, 'SELECT 1 FROM programmes WHERE id = ?').get(programmeId)) throw new ValidationError('no such programme', [{ field: 'programmeId', code: 'unknown' }]);
    const municipality = statement<[number | null], { id: number }>(db, 'SELECT id FROM municipalities WHERE id = ?').get(actor.municipalityId);
    if (!municipality) throw new ValidationError('no such municipality', [{ field: 'municipalityId', code: 'unknown' }]);
    const next = statement<[], { id: number }>(db, 'SELECT COALESCE(MAX(id), 0) + 1 AS id FROM applications').get()!.id;
    const streamId = applicationStreamId(next);
    const applied = engine.create({
      streamId,
      kind: 'application',
      machineId: applicationMachineId,
      input: { programmeId, municipalityId: municipality.id, form },
      actor,
      // Applications are created only while a stage that owns `create` is active (the machine's `whyNotCreate`).
      facts: { activeStages: stageReads(engine.db).activeStageKeys(programmeId) },
      afterCreate: (stream) => {
        statement(
          db,
          `INSERT INTO applications (id, stream_id, programme_id, municipality_id, title, state, version, created_at, updated_at)
           VALUES (@id, @streamId, @programmeId, @municipalityId, @title, @state, @version, @createdAt, @updatedAt)`,
        ).run({ id: next, streamId, programmeId, municipalityId: municipality.id, title: form.title ?? '', state: stream.state, version: stream.version, createdAt: stream.updatedAt, updatedAt: stream.updatedAt });
      },
    });
    return { ...applied, id: next };
  });
}

/**
 * Sends one event to an application, through the engine's one write path. `channel` is given
 * only by the paths an event is reserved for (the upload, the commission's decision).
 */
export function sendApplicationEvent(engine: Engine, actor: Actor, id: number, type: string, payload: unknown, expectedVersion: number, channel?: string): AppliedEvent {
  return engine.apply(applicationStreamId(id), { type, payload }, expectedVersion, actor, channel ? { channel } : {});
}
