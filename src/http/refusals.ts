import { NotAllowedError, ValidationError, type DomainError } from '../engine/errors.ts';
import type { Translate } from '../i18n/index.ts';
import { stageDefinitions } from '../../machines/stages.ts';

/** A refusal in the coordinator's words: the catalogue's reason when the engine named one. */
export function refusalText(t: Translate, lang: 'ru' | 'en', error: DomainError): string {
  if (error instanceof NotAllowedError && error.reason) {
    const params: Record<string, string | number> = { ...error.params };
    if (typeof params.stage === 'string') {
      const stage = stageDefinitions.find((d) => d.key === params.stage);
      if (stage) params.stage = stage.title[lang];
    }
    if (typeof params.stages === 'string') {
      params.stages = params.stages
        .split(',')
        .map((key) => `«${stageDefinitions.find((d) => d.key === key)?.title[lang] ?? key}»`)
        .join(t('stage.or'));
    }
    if (typeof params.event === 'string') params.event = t(`event.${params.event}`);
    return t(error.reason, params);
  }
  if (error instanceof ValidationError) return error.problems.map((p) => `${t(`field.${p.field}`)}: ${typeof p.params?.message === 'string' ? p.params.message : p.code}`).join('; ');
  return error.message;
}
