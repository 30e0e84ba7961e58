import { z } from 'zod';
import { refineText } from './text.ts';
import type { FieldProblem } from './application.ts';

/** The kinds of municipal formation (131-FZ) a programme deals with; labels are `admin.municipalityKind.<key>`. */
export const municipalityKinds = ['city-okrug', 'municipal-okrug', 'district', 'settlement'] as const;
export type MunicipalityKind = (typeof municipalityKinds)[number];

export const MUNICIPALITY_NAME_MAX = 200;
/** Above the population of any Russian municipality (Moscow is ~13 million): a typo, not a city. */
export const MUNICIPALITY_POPULATION_MAX = 20_000_000;

/** A name as stored: trimmed, runs of spaces (also no-break ones) made one space. */
export function normalizeMunicipalityName(name: string): string {
  return name.replace(/[\s\u00a0\u202f]+/g, ' ').trim();
}

/**
 * The key two names are compared by: «Город Ижевск» and «город  ижевск» are one municipality.
 * Compared in JavaScript, not SQL: SQLite's lower() and NOCASE fold only ASCII, and names are Cyrillic.
 * Ё is written as Е as often as not, so they count as the same letter.
 */
export function municipalityNameKey(name: string): string {
  return normalizeMunicipalityName(name).toLocaleLowerCase('ru').replaceAll('ё', 'е');
}

/** Population as people type it: digits, with spaces between thousands allowed (`624 000`). */
const populationText = z
  .string()
  .transform((text) => text.replace(/[\s\u00a0\u202f]/g, '').replace(/^[\u2212\u2013]/, '-'))
  // A sign is read too: −5 is told that the population must be above zero, not that it is no number.
  .pipe(z.string().min(1, 'required').regex(/^-?\d{1,12}$/, 'population-not-a-number'))
  .transform(Number)
  .pipe(z.number().int().min(1, 'population-positive').max(MUNICIPALITY_POPULATION_MAX, 'population-too-large'));

/**
 * A municipality as an admin enters it, on the page or on the command line: every value a text,
 * as posted. The messages are the problem codes the form shows beside each field.
 */
export const municipalityInputSchema = z.object({
  name: z
    .string('required')
    .transform(normalizeMunicipalityName)
    .pipe(refineText(z.string().min(1, 'required').max(MUNICIPALITY_NAME_MAX, 'too-long'))),
  kind: z.enum(municipalityKinds, 'kind-unknown'),
  population: z.union([z.string(), z.number().transform(String)], 'required').pipe(populationText),
});
export type MunicipalityInput = z.output<typeof municipalityInputSchema>;

/** Reads a municipality's fields; each problem is tied to its field, one per field. */
export function readMunicipalityInput(raw: { name?: unknown; kind?: unknown; population?: unknown }): { input: MunicipalityInput | null; problems: FieldProblem[] } {
  const parsed = municipalityInputSchema.safeParse({ name: raw.name ?? '', kind: raw.kind ?? '', population: raw.population ?? '' });
  if (parsed.success) return { input: parsed.data, problems: [] };
  const problems: FieldProblem[] = [];
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? 'general');
    // The code a refinement names (src/domain/text.ts), the union's own message when neither branch fits, else the code the schema names.
    const named = issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : undefined;
    const code = named ?? (/^[a-z-]+$/.test(issue.message) ? issue.message : 'invalid');
    if (!problems.some((p) => p.field === field)) problems.push({ field, code });
  }
  return { input: null, problems };
}
