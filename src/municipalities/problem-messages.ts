import type { FieldProblem } from '../domain/application.ts';
import { localeOf, numberFormat } from '../domain/intl.ts';
import { MUNICIPALITY_NAME_MAX, MUNICIPALITY_POPULATION_MAX } from '../domain/municipality.ts';
import type { Lang, Translate } from '../i18n/index.ts';

/** A problem with a municipality's field in words, for the page beside the field and for the shell. */
export function municipalityProblemText(t: Translate, lang: Lang, problem: FieldProblem): string {
  const key = `admin.municipalities.problem.${problem.code}`;
  const text = t(key, { max: numberFormat(localeOf(lang)).format(MUNICIPALITY_POPULATION_MAX), length: MUNICIPALITY_NAME_MAX, ...problem.params });
  return text === key ? t('admin.problem.invalid') : text;
}
