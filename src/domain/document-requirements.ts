import { z } from 'zod';
import { projectTypes } from './application.ts';
import { documentKinds, fileTypeKeys, MAX_DOCUMENT_BYTES, type DocumentKind, type DocumentRule } from './documents.ts';

/**
 * Which documents a programme asks for, per project type (issue 7). A rule for every project type
 * (`*`) is the programme's default; a rule for one project type overrides it for that kind.
 */
export const ANY_PROJECT_TYPE = '*';
export const requirementProjectTypes = [ANY_PROJECT_TYPE, ...projectTypes] as const;
export type RequirementProjectType = (typeof requirementProjectTypes)[number];

/** One row as the admin sets it; the same schema serves the admin page, the API and the table. */
export const documentRequirementSchema = z.strictObject({
  projectType: z.enum(requirementProjectTypes),
  kind: z.enum(documentKinds),
  required: z.boolean(),
  fileTypes: z.array(z.enum(fileTypeKeys as [string, ...string[]])).min(1).max(fileTypeKeys.length)
    .transform((types) => fileTypeKeys.filter((key) => types.includes(key))),
  maxBytes: z.number().int().min(1024).max(MAX_DOCUMENT_BYTES),
});
export type DocumentRequirementInput = z.infer<typeof documentRequirementSchema>;

export interface DocumentRequirement extends DocumentRule {
  projectType: RequirementProjectType;
}

/**
 * The rules that apply to an application of the given project type (none set yet: the defaults
 * only), in the order of `documentKinds`.
 */
export function effectiveRules(rows: readonly DocumentRequirement[], projectType: string | null | undefined): DocumentRule[] {
  const byKind = new Map<DocumentKind, DocumentRule>();
  for (const row of rows) if (row.projectType === ANY_PROJECT_TYPE) byKind.set(row.kind, strip(row));
  if (projectType) for (const row of rows) if (row.projectType === projectType) byKind.set(row.kind, strip(row));
  return documentKinds.filter((kind) => byKind.has(kind)).map((kind) => byKind.get(kind)!);
}

function strip(row: DocumentRequirement): DocumentRule {
  return { kind: row.kind, required: row.required, fileTypes: [...row.fileTypes], maxBytes: row.maxBytes };
}
