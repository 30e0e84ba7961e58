import type { Problem } from '../domain/problems.ts';
import { NotAllowedError, ValidationError, type DomainError } from '../engine/errors.ts';
import type { Translate } from '../i18n/index.ts';
import { implementationParams, problemText } from './problem-text.ts';

/** A stage's name from the catalogue (machines/stages.ts holds only its key). */
export const stageName = (t: Translate, key: string): string => t(`stage.name.${key}`);

/** The parameters of a refusal in words: stage keys become stage names, event types event names. */
export function refusalParams(t: Translate, params: Record<string, string | number>): Record<string, string | number> {
  const shown = { ...params };
  if (typeof shown.stage === 'string') shown.stage = stageName(t, shown.stage);
  if (typeof shown.stages === 'string') {
    shown.stages = shown.stages
      .split(',')
      .map((key) => `«${stageName(t, key)}»`)
      .join(t('stage.or'));
  }
  if (typeof shown.event === 'string') shown.event = t(`event.${shown.event}`);
  return shown;
}

/** A blocking problem of a machine's rules in words: its code is its catalogue key. */
export function blockerText(t: Translate, problem: Problem, lang: 'ru' | 'en' = 'ru'): string {
  const text = t(problem.code, refusalParams(t, problem.params ?? {}));
  // The rules after the award (issue 11) keep their words under `problem.` with amounts to format.
  return text === problem.code ? problemText(t, lang, { ...problem, params: {} }, { ...(problem.params ?? {}), ...implementationParams(t, lang, problem) }) : text;
}

/** A refusal in the person's words: the catalogue's reason when the engine named one. */
export function refusalText(t: Translate, _lang: 'ru' | 'en', error: DomainError): string {
  if (error instanceof NotAllowedError && error.blockers.length > 0) return error.blockers.map((problem) => blockerText(t, problem, _lang)).join(' ');
  if (error instanceof NotAllowedError && error.reason) return t(error.reason, refusalParams(t, error.params));
  if (error instanceof ValidationError) return error.problems.map((p) => `${t(`field.${p.field}`)}: ${problemText(t, _lang, p)}`).join('; ');
  return error.message;
}

/**
 * What was done, in the past tense, for the notice after an action: «Заявка взята на проверку.»,
 * never the button's imperative (issue 16). An event without its own sentence is named in quotes.
 */
export function doneText(t: Translate, type: string, scope: '' | 'stage.' = ''): string {
  const key = `done.${scope}${type}`;
  const text = t(key);
  return text === key ? t('done.event', { event: t(`event.${type}`) }) : text;
}
