import type { FieldProblem } from '../domain/problems.ts';
import { parseRoubles } from '../domain/money.ts';
import { russianTimeZones } from '../domain/time.ts';
import { programmeProblems, type PlannedStages } from '../workflows/programme/create.ts';
import { bodyText } from './forms.ts';

/** The fields of the new-programme form, in the order the page shows them. */
export const programmeFormFields = ['title', 'year', 'region', 'timeZone', 'fund', 'cap', 'minLocalShare', 'minResidentsShare', 'plannedStart', 'plannedEnd'] as const;
export type ProgrammeFormField = (typeof programmeFormFields)[number];

/** How each field is typed in, and whether it has a hint under its label (`programmes.hint.<field>`). */
export const programmeFieldKinds: Record<ProgrammeFormField, { kind: 'text' | 'year' | 'zone' | 'money' | 'percent' | 'date'; hint: boolean }> = {
  title: { kind: 'text', hint: true },
  year: { kind: 'year', hint: false },
  region: { kind: 'text', hint: false },
  timeZone: { kind: 'zone', hint: true },
  fund: { kind: 'money', hint: true },
  cap: { kind: 'money', hint: true },
  minLocalShare: { kind: 'percent', hint: true },
  minResidentsShare: { kind: 'percent', hint: true },
  plannedStart: { kind: 'date', hint: false },
  plannedEnd: { kind: 'date', hint: false },
};

/** The fields that have a hint, for the i18n check. */
export const programmeHintFields = programmeFormFields.filter((field) => programmeFieldKinds[field].hint);

export const defaultTimeZone = 'Europe/Moscow';

/** The engine's name of each field (kopecks, basis points, stage 1's dates) → the form's. */
const formFieldOf: Record<string, ProgrammeFormField> = {
  title: 'title',
  year: 'year',
  region: 'region',
  timeZone: 'timeZone',
  fundKopecks: 'fund',
  capKopecks: 'cap',
  minLocalShareBp: 'minLocalShare',
  minResidentsShareBp: 'minResidentsShare',
  'stages.1.plannedStart': 'plannedStart',
  'stages.1.plannedEnd': 'plannedEnd',
};

/** The codes whose message is the same on any field; any other problem is told by its field's own message. */
const sharedCodes = new Set(['required', 'too-long', 'not-money', 'cap-above-fund', 'end-before-start', 'both-dates', 'text-characters']);

/** Percent as people type it (`5`, `2,5`, `12.75`) → basis points, exactly; null when it is not such a number. */
export function parsePercent(text: string): number | null {
  const match = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(text.replace(/[\s\u00a0%]/g, ''));
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** One problem per form field, in the form's names and codes, the first one found kept. */
function formProblems(problems: FieldProblem[]): FieldProblem[] {
  const byField = new Map<string, FieldProblem>();
  for (const problem of problems) {
    const field = formFieldOf[problem.field] ?? 'general';
    let code = problem.code;
    if (field === 'title' || field === 'region') code = code === 'too_big' ? 'too-long' : code === 'too_small' ? 'required' : code;
    if (!byField.has(field)) byField.set(field, { field, code: sharedCodes.has(code) ? code : field });
  }
  return [...byField.values()];
}

export interface ProgrammeFormReading {
  /** What `createProgramme` takes: money in kopecks, shares in basis points. */
  input: Record<string, unknown>;
  planned: PlannedStages;
  /** By the form's field names; empty when the programme may be created. */
  problems: FieldProblem[];
  /** What the person typed, to show back beside the problems. */
  entered: Record<ProgrammeFormField, string>;
}

/**
 * Reads the new-programme form: roubles into kopecks as the application form reads them,
 * percent into basis points, stage 1's planned dates if both or neither are given. The
 * engine's own check (`programmeProblems`) decides the rest, so that the page and the API refuse
 * the same things.
 */
export function readProgrammeForm(body: Record<string, unknown>, lang: 'ru' | 'en'): ProgrammeFormReading {
  const entered = Object.fromEntries(programmeFormFields.map((field) => [field, (bodyText(body, field) ?? '').trim()])) as Record<ProgrammeFormField, string>;
  const own: FieldProblem[] = [];
  const input: Record<string, unknown> = { title: entered.title, region: entered.region, timeZone: entered.timeZone };

  if (entered.title === '') own.push({ field: 'title', code: 'required' });
  if (entered.region === '') own.push({ field: 'region', code: 'required' });
  // Only the zones the page offers: anything else was not picked from it.
  if (!russianTimeZones.includes(entered.timeZone)) own.push({ field: 'timeZone', code: 'timeZone' });

  if (entered.year === '') own.push({ field: 'year', code: 'required' });
  else if (/^\d{4}$/.test(entered.year)) input.year = Number(entered.year);
  else own.push({ field: 'year', code: 'year' });

  for (const [field, key] of [['fund', 'fundKopecks'], ['cap', 'capKopecks']] as const) {
    if (entered[field] === '') {
      own.push({ field, code: 'required' });
      continue;
    }
    const kopecks = parseRoubles(entered[field], lang);
    if (kopecks === null) own.push({ field, code: 'not-money' });
    else input[key] = kopecks;
  }

  for (const [field, key] of [['minLocalShare', 'minLocalShareBp'], ['minResidentsShare', 'minResidentsShareBp']] as const) {
    if (entered[field] === '') {
      own.push({ field, code: 'required' });
      continue;
    }
    const basisPoints = parsePercent(entered[field]);
    if (basisPoints === null) own.push({ field, code: field });
    else input[key] = basisPoints;
  }

  const planned: PlannedStages = {};
  if (entered.plannedStart !== '' || entered.plannedEnd !== '') {
    if (entered.plannedStart === '') own.push({ field: 'plannedStart', code: 'both-dates' });
    else if (entered.plannedEnd === '') own.push({ field: 'plannedEnd', code: 'both-dates' });
    else planned[1] = { start: entered.plannedStart, end: entered.plannedEnd };
  }

  // The engine's problems for the fields that were read; a field that could not be read keeps its own.
  const engine = formProblems(programmeProblems(input, planned)).filter((problem) => !own.some((p) => p.field === problem.field));
  return { input, planned, problems: [...own, ...engine], entered };
}
