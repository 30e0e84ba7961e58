import { z } from 'zod';
import { programmes } from '../db/schema.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine } from './engine.ts';
import { ForbiddenError, ValidationError } from './errors.ts';
import { zodProblems } from './engine.ts';
import { createStages } from './stages.ts';
import { installDefaultCommissionSettings } from './commission.ts';
import { installDefaultDocumentRequirements } from './document-requirements.ts';
import type { DocumentRule } from '../domain/documents.ts';

const basisPoints = z.number().int().min(0).max(10_000);

export const programmeSchema = z.strictObject({
  title: z.string().trim().min(1).max(300),
  year: z.number().int().min(2000).max(2100),
  region: z.string().trim().min(1).max(300),
  timeZone: z.string().refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'unknown time zone'),
  fundKopecks: z.number().int().min(1).max(10_000_000_000_000),
  capKopecks: z.number().int().min(1).max(10_000_000_000_000),
  minLocalShareBp: basisPoints,
  minResidentsShareBp: basisPoints,
});
export type ProgrammeInput = z.infer<typeof programmeSchema>;

export type ProgrammeRow = typeof programmes.$inferSelect;

/**
 * Creates a programme and its twelve stages, planned, in one transaction, with the default
 * document requirements (or the ones given: `[]` asks for none). Admins only.
 */
export function createProgramme(
  engine: Engine,
  actor: Actor,
  input: unknown,
  planned: Record<number, { start: string; end: string }> = {},
  options: { documentRules?: readonly DocumentRule[] } = {},
): ProgrammeRow {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin creates programmes');
  const parsed = programmeSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the programme is invalid', zodProblems(parsed.error));
  return engine.transaction(() => {
    const row = engine.db
      .insert(programmes)
      .values({ ...parsed.data, createdAt: engine.now().toISOString() })
      .returning()
      .get();
    createStages(engine, actor, row.id, planned);
    installDefaultCommissionSettings(engine.db, row.id, row.createdAt);
    installDefaultDocumentRequirements(engine.db, row.id, row.createdAt, options.documentRules);
    return row;
  });
}
