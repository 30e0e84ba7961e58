import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { perDatabase } from '../../db/statements.ts';
import { documentKinds, type DocumentKind } from '../../domain/documents.ts';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine } from '../../engine/engine.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { recordSetting } from '../../engine/settings-log.ts';
import { canonicalJson } from '../../engine/ledger.ts';

/**
 * Which kinds of an application's documents the public portal publishes (issue 15). By default
 * the ones made to be seen — photos of the object as it is, publications in the media, the design
 * documentation — and never the minutes and attendance sheets, which name residents, nor the
 * estimates and extracts. An admin changes the list; it is one row per programme.
 */
export const defaultPublicDocumentKinds: readonly DocumentKind[] = ['object-photos', 'media-publications', 'design-documentation'];

export const publicDocumentKindsSchema = z.strictObject({ documentKinds: z.array(z.enum(documentKinds)).max(documentKinds.length) });

const statements = perDatabase((db: Db) => ({
  read: db.$client.prepare<[number], { documentKinds: string }>('SELECT document_kinds AS documentKinds FROM programme_public_settings WHERE programme_id = ?'),
  programme: db.$client.prepare<[number], { id: number }>('SELECT id FROM programmes WHERE id = ?'),
  save: db.$client.prepare<[{ programmeId: number; documentKinds: string; updatedAt: string; updatedBy: string }]>(
    `INSERT INTO programme_public_settings (programme_id, document_kinds, updated_at, updated_by) VALUES (@programmeId, @documentKinds, @updatedAt, @updatedBy)
     ON CONFLICT (programme_id) DO UPDATE SET document_kinds = excluded.document_kinds, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  ),
}));

export function publicDocumentKinds(db: Db, programmeId: number): DocumentKind[] {
  const row = statements(db).read.get(programmeId);
  if (!row) return [...defaultPublicDocumentKinds];
  const parsed = z.array(z.enum(documentKinds)).safeParse(JSON.parse(row.documentKinds));
  return parsed.success ? parsed.data : [...defaultPublicDocumentKinds];
}

/** Sets the kinds the portal publishes, in the engine's transaction; admins only. */
export function savePublicDocumentKinds(engine: Engine, actor: Actor, programmeId: number, input: unknown): DocumentKind[] {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin sets what the portal publishes');
  const parsed = publicDocumentKindsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the public document kinds are invalid', zodProblems(parsed.error));
  // In the catalogue's order, each once.
  const kinds = documentKinds.filter((kind) => parsed.data.documentKinds.includes(kind));
  return engine.transaction(() => {
    if (!statements(engine.db).programme.get(programmeId)) throw new NotFoundError(`programme ${programmeId} not found`);
    const at = engine.now();
    statements(engine.db).save.run({ programmeId, documentKinds: canonicalJson(kinds), updatedAt: at.toISOString(), updatedBy: actor.login });
    // In the settings log beside the other settings, so that verify proves what the portal publishes (issue 17.2).
    recordSetting(engine.db.$client, 'programme_public_settings', programmeId, at, actor);
    return kinds;
  });
}
