import { fieldKinds } from '../domain/application.ts';
import { localeOf, numberFormat } from '../domain/intl.ts';
import { formatRoubles } from '../domain/money.ts';
import { formatDay } from '../domain/time.ts';
import type { FieldProblem, Problem } from '../domain/problems.ts';
import type { Lang, Translate } from '../i18n/index.ts';

/** The codes zod gives its issues: each has its message in the catalogues (`problem.<code>…`). */
const zodCodes = new Set(['too_big', 'too_small', 'invalid_type', 'invalid_value', 'invalid_format', 'invalid_union', 'invalid_key', 'invalid_element', 'not_multiple_of', 'unrecognized_keys', 'custom']);

/** A field holding kopecks: shown and typed as roubles. */
export const isMoneyField = (field: string | undefined): boolean => field !== undefined && (fieldKinds[field] === 'money' || /Kopecks$/.test(field));

/**
 * A zod issue in the person's words, saying what is allowed (issue 16): «Введите число не больше
 * 60.», a money limit in roubles, never zod's English. Null for a problem that is not zod's.
 */
export function zodProblemText(t: Translate, lang: Lang, problem: Problem): string | null {
  if (!zodCodes.has(problem.code)) return null;
  const params = problem.params ?? {};
  const money = isMoneyField(problem.field);
  const number = (value: number) => numberFormat(localeOf(lang), { maximumFractionDigits: 2 }).format(value);
  const shown = (value: unknown) => (typeof value !== 'number' ? String(value) : money ? formatRoubles(value, lang) : number(value));
  const origin = money ? 'money' : typeof params.origin === 'string' ? params.origin : 'number';
  if (problem.code === 'too_big' || problem.code === 'too_small') {
    if (problem.code === 'too_small' && origin === 'string' && params.min === 1) return t('problem.required');
    const key = `problem.${problem.code}.${['money', 'string', 'array'].includes(origin) ? origin : 'number'}`;
    return t(key, { max: shown(params.max), min: shown(params.min) });
  }
  if (problem.code === 'invalid_type') {
    if (money) return t('problem.not-money');
    const key = `problem.invalid_type.${typeof params.expected === 'string' ? params.expected : ''}`;
    const text = t(key);
    return text === key ? t('problem.invalid_type') : text;
  }
  return t(`problem.${problem.code}`);
}

/** Basis points as a percent in the language's digits: 450 → «4,5». */
const formatPercent = (bp: number, lang: Lang) => (bp / 100).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB', { maximumFractionDigits: 2 });

/**
 * The parameters of a problem after the award (issue 11) in words: the source by name, amounts in
 * roubles, shares in percent, a visit's day as a date.
 */
export function implementationParams(t: Translate, lang: Lang, problem: Problem): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  const given = problem.params ?? {};
  if (typeof given.source === 'string') params.sourceName = t(`source.${given.source}`);
  for (const key of ['agreed', 'received', 'spent', 'subsidy', 'award'] as const) if (typeof given[key] === 'number') params[key] = formatRoubles(given[key], lang);
  if (typeof given.max === 'number' && problem.code === 'price-above-agreement') params.max = formatRoubles(given.max, lang);
  if (typeof given.shareBp === 'number') params.share = formatPercent(given.shareBp, lang);
  if (typeof given.minBp === 'number') params.min = formatPercent(given.minBp, lang);
  if (typeof given.visitedOn === 'string') params.visitedOn = formatDay(given.visitedOn, lang);
  return params;
}

/** A problem's text from the catalogue `prefix` + code, or zod's in words, or the generic one: never a developer's message. */
export function problemText(t: Translate, lang: Lang, problem: Problem, params: Record<string, string | number> = {}, prefix = 'problem.'): string {
  const zod = zodProblemText(t, lang, problem);
  if (zod !== null) return zod;
  const key = `${prefix}${problem.code}`;
  const text = t(key, { ...(problem.params ?? {}), ...params });
  return text === key ? t('problem.invalid') : text;
}

/** A problem in words: what is wrong with the field, with amounts in roubles and shares in percent. */
export function describeProblem(t: Translate, lang: Lang, problem: FieldProblem): string {
  const zod = zodProblemText(t, lang, problem);
  if (zod !== null) return zod;
  const params: Record<string, string | number> = { ...(problem.params ?? {}) };
  if (typeof params.cap === 'number') params.cap = formatRoubles(params.cap, lang);
  if (typeof params.max === 'number' && problem.code === 'award-above-request') params.max = formatRoubles(params.max, lang);
  if (typeof params.min === 'number') params.min = (params.min / 100).toString();
  if (typeof params.kind === 'string') params.document = t(`field.document.${params.kind}`);
  Object.assign(params, implementationParams(t, lang, problem));
  return problemText(t, lang, { ...problem, params: {} }, params);
}

/** The first problem of each field, in words, for the error beside it. */
export function problemsByField(t: Translate, lang: Lang, problems: FieldProblem[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const problem of problems) map[problem.field] ??= describeProblem(t, lang, problem);
  return map;
}
