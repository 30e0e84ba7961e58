import { z } from 'zod';
import { recordProgrammeSettings } from '../../engine/settings-log.ts';
import { programmes } from '../../db/schema.ts';
import type { DocumentRule } from '../../domain/documents.ts';
import { zodProblems, type FieldProblem } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import { isTimeZone } from '../../domain/time.ts';
import type { Engine } from '../../engine/engine.ts';
import { ForbiddenError, ValidationError } from '../../engine/errors.ts';
import { stageEventSchemas } from '../../../machines/stage.ts';
import { stageDefinitions } from '../../../machines/stages.ts';
import { installDefaultCommissionSettings } from '../commission/settings.ts';
import { installDefaultDocumentRequirements } from '../documents/requirements.ts';
import { createStages } from '../stage/commands.ts';
import { text } from '../../domain/text.ts';

const basisPoints = z.number().int().min(0).max(10_000);

export const programmeSchema = z.strictObject({
  title: text({ max: 300 }),
  year: z.number().int().min(2000).max(2100),
  region: text({ max: 300 }),
  timeZone: z.string().max(64).refine(isTimeZone, 'unknown time zone'),
  fundKopecks: z.number().int().min(1).max(10_000_000_000_000),
  capKopecks: z.number().int().min(1).max(10_000_000_000_000),
  minLocalShareBp: basisPoints,
  minResidentsShareBp: basisPoints,
});
export type ProgrammeInput = z.infer<typeof programmeSchema>;

export type ProgrammeRow = typeof programmes.$inferSelect;

/** Planned dates of stages by number, as `createProgramme` takes them. */
export type PlannedStages = Record<number, { start: string; end: string }>;

/**
 * Everything wrong with a new programme, field by field: the schema, a cap per project above the
 * whole fund, and planned dates the stage's own `schedule` event would refuse
 * (`stages.<no>.plannedStart|plannedEnd`). Empty when `createProgramme` would take it.
 */
export function programmeProblems(input: unknown, planned: PlannedStages = {}): FieldProblem[] {
  const parsed = programmeSchema.safeParse(input);
  const problems = parsed.success ? [] : zodProblems(parsed.error);
  // Told beside the other problems, as soon as both amounts are amounts.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const fund = programmeSchema.shape.fundKopecks.safeParse(raw.fundKopecks);
  const cap = programmeSchema.shape.capKopecks.safeParse(raw.capKopecks);
  if (fund.success && cap.success && cap.data > fund.data) problems.push({ field: 'capKopecks', code: 'cap-above-fund' });
  for (const [no, dates] of Object.entries(planned)) {
    if (!stageDefinitions.some((d) => String(d.no) === no)) {
      problems.push({ field: `stages.${no}`, code: 'unknown-stage' });
      continue;
    }
    const payload = { plannedStart: dates?.start, plannedEnd: dates?.end };
    // Each date alone first: an end is not "before" a start that is no date.
    const dateProblems = (['plannedStart', 'plannedEnd'] as const).flatMap((field) => {
      const date = stageEventSchemas.schedule.shape[field].safeParse(payload[field]);
      return date.success ? [] : [{ field, code: 'not-a-date' }];
    });
    // Two good dates fail the schedule only by their order.
    if (dateProblems.length === 0 && !stageEventSchemas.schedule.safeParse(payload).success) dateProblems.push({ field: 'plannedEnd', code: 'end-before-start' });
    for (const problem of dateProblems) problems.push({ ...problem, field: `stages.${no}.${problem.field}` });
  }
  return problems;
}

/**
 * Creates a programme and its twelve stages, planned, in one transaction, with the default
 * document requirements (or the ones given: `[]` asks for none). Admins only.
 */
export function createProgramme(
  engine: Engine,
  actor: Actor,
  input: unknown,
  planned: PlannedStages = {},
  options: { documentRules?: readonly DocumentRule[] } = {},
): ProgrammeRow {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin creates programmes');
  const problems = programmeProblems(input, planned);
  if (problems.length > 0) throw new ValidationError('the programme is invalid', problems);
  const data = programmeSchema.parse(input);
  return engine.transaction(() => {
    const row = engine.db
      .insert(programmes)
      .values({ ...data, createdAt: engine.now().toISOString() })
      .returning()
      .get();
    createStages(engine, actor, row.id, planned);
    installDefaultCommissionSettings(engine.db, row.id, row.createdAt);
    installDefaultDocumentRequirements(engine.db, row.id, row.createdAt, options.documentRules);
    // The programme's settings as made, whole, in the settings log (issue 17.2).
    recordProgrammeSettings(engine.db.$client, row.id, row.createdAt, actor);
    return row;
  });
}
