import { sql } from 'drizzle-orm';
import { recordSetting } from '../../engine/settings-log.ts';
import type { Db } from '../../db/client.ts';
import { applications, documentRequirements, programmes } from '../../db/schema.ts';
import {
  ANY_PROJECT_TYPE,
  documentRequirementSchema,
  effectiveRules,
  requirementProjectTypes,
  type DocumentRequirement,
  type RequirementProjectType,
} from '../../domain/document-requirements.ts';
import { defaultDocumentRules, documentKinds, type DocumentKind, type DocumentRule, type FileTypeKey } from '../../domain/documents.ts';
import { zodProblems } from '../../domain/problems.ts';
import type { Actor } from '../../domain/roles.ts';
import type { Engine } from '../../engine/engine.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { canonicalJson } from '../../engine/ledger.ts';
import { perDatabase } from '../../db/statements.ts';

type RequirementRow = typeof documentRequirements.$inferSelect;

function toRequirement(row: Pick<RequirementRow, 'projectType' | 'kind' | 'required' | 'fileTypes' | 'maxBytes'>): DocumentRequirement {
  return {
    projectType: row.projectType as RequirementProjectType,
    kind: row.kind as DocumentKind,
    required: row.required,
    fileTypes: JSON.parse(row.fileTypes) as FileTypeKey[],
    maxBytes: row.maxBytes,
  };
}

/** Gives a new programme the default set of documents, for every project type. */
export function installDefaultDocumentRequirements(db: Db, programmeId: number, at: string, rules: readonly DocumentRule[] = defaultDocumentRules): void {
  for (const rule of rules) {
    db.insert(documentRequirements)
      .values({
        programmeId,
        projectType: ANY_PROJECT_TYPE,
        kind: rule.kind,
        required: rule.required,
        fileTypes: canonicalJson(rule.fileTypes),
        maxBytes: rule.maxBytes,
        updatedAt: at,
        updatedBy: null,
      })
      .onConflictDoNothing()
      .run();
  }
}

/**
 * What the write path reads for document facts: the programme's rules and the application's
 * project type, by stream, with prepared statements (DESIGN §4.8).
 */
export const documentRequirementReads = perDatabase((db: Db) => {
  const ofProgramme = db
    .select()
    .from(documentRequirements)
    .where(sql`${documentRequirements.programmeId} = ${sql.placeholder('programmeId')}`)
    .prepare();
  const applicationOf = db
    .select({ programmeId: applications.programmeId, projectType: applications.projectType })
    .from(applications)
    .where(sql`${applications.streamId} = ${sql.placeholder('streamId')}`)
    .prepare();
  const requirements = (programmeId: number) => ofProgramme.all({ programmeId }).map(toRequirement);
  return {
    /** Every row the admin set for the programme, defaults first, then by project type and kind. */
    requirements(programmeId: number): DocumentRequirement[] {
      return requirements(programmeId).sort(
        (a, b) =>
          requirementProjectTypes.indexOf(a.projectType) - requirementProjectTypes.indexOf(b.projectType) ||
          documentKinds.indexOf(a.kind) - documentKinds.indexOf(b.kind),
      );
    },
    /** The rules for an application of this programme and project type. */
    rulesFor(programmeId: number, projectType: string | null | undefined): DocumentRule[] {
      return effectiveRules(requirements(programmeId), projectType);
    },
    /** The rules for the application a stream belongs to, as they stand now. */
    rulesForStream(streamId: string): DocumentRule[] {
      const application = applicationOf.get({ streamId });
      return application ? effectiveRules(requirements(application.programmeId), application.projectType) : [];
    },
  };
});

function assertAdmin(actor: Actor) {
  if (actor.role !== 'admin') throw new ForbiddenError('only an admin sets the documents a programme requires');
}

function assertProgramme(db: Db, programmeId: number) {
  if (!db.select({ id: programmes.id }).from(programmes).where(sql`${programmes.id} = ${programmeId}`).get()) throw new NotFoundError(`programme ${programmeId} not found`);
}

/**
 * Sets one requirement (adds it, or changes the one for the same project type and kind). Events
 * already written keep the requirements of their moment in their facts, so replay is unaffected.
 */
export function saveDocumentRequirement(engine: Engine, actor: Actor, programmeId: number, input: unknown): DocumentRequirement {
  assertAdmin(actor);
  const parsed = documentRequirementSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('the document requirement is invalid', zodProblems(parsed.error));
  const value = parsed.data;
  return engine.transaction(() => {
    assertProgramme(engine.db, programmeId);
    const row = {
      programmeId,
      projectType: value.projectType,
      kind: value.kind,
      required: value.required,
      fileTypes: canonicalJson(value.fileTypes),
      maxBytes: value.maxBytes,
      updatedAt: engine.now().toISOString(),
      updatedBy: actor.login,
    };
    engine.db
      .insert(documentRequirements)
      .values(row)
      .onConflictDoUpdate({
        target: [documentRequirements.programmeId, documentRequirements.projectType, documentRequirements.kind],
        set: { required: row.required, fileTypes: row.fileTypes, maxBytes: row.maxBytes, updatedAt: row.updatedAt, updatedBy: row.updatedBy },
      })
      .run();
    recordSetting(engine.db.$client, 'document_requirements', `${programmeId}/${value.projectType}/${value.kind}`, row.updatedAt, actor);
    return toRequirement(row);
  });
}

/** Removes one requirement: the kind is then no longer asked for (or, for one project type, the default applies again). */
export function removeDocumentRequirement(engine: Engine, actor: Actor, programmeId: number, projectType: unknown, kind: unknown): void {
  assertAdmin(actor);
  if (typeof projectType !== 'string' || !(requirementProjectTypes as readonly string[]).includes(projectType)) {
    throw new ValidationError('unknown project type', [{ field: 'projectType', code: 'unknown' }]);
  }
  if (typeof kind !== 'string' || !(documentKinds as readonly string[]).includes(kind)) {
    throw new ValidationError('unknown kind of document', [{ field: 'kind', code: 'unknown' }]);
  }
  engine.transaction(() => {
    assertProgramme(engine.db, programmeId);
    const removed = engine.db
      .delete(documentRequirements)
      .where(
        sql`${documentRequirements.programmeId} = ${programmeId} AND ${documentRequirements.projectType} = ${projectType} AND ${documentRequirements.kind} = ${kind}`,
      )
      .run();
    if (removed.changes === 0) throw new NotFoundError('no such document requirement');
    recordSetting(engine.db.$client, 'document_requirements', `${programmeId}/${projectType}/${kind}`, engine.now(), actor);
  });
}
