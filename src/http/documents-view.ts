import { localeOf, numberFormat } from '../domain/intl.ts';
import type { FieldProblem } from '../domain/problems.ts';
import { fileTypes, fileTypeOfMedia, type DocumentKind, type DocumentVerdict, type FileTypeKey } from '../domain/documents.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine, EventOption } from '../engine/engine.ts';
import type { LoadedApplication } from '../workflows/application/reads.ts';
import { applicationDocuments } from '../workflows/documents/upload.ts';
import { documentRemarksShown } from '../../machines/application.ts';
import type { Translate } from '../i18n/index.ts';
import { formatDateTime } from '../domain/time.ts';
import { problemText } from './problem-text.ts';

/** A size in words: `48 КБ`, `1,5 МБ`. */
export function formatBytes(bytes: number, t: Translate, lang: 'ru' | 'en'): string {
  const number = (value: number) => numberFormat(localeOf(lang), { maximumFractionDigits: 1 }).format(value);
  if (bytes < 1024) return t('documents.size.bytes', { n: bytes });
  if (bytes < 1024 * 1024) return t('documents.size.kb', { n: number(bytes / 1024) });
  return t('documents.size.mb', { n: number(bytes / (1024 * 1024)) });
}

export const kindLabel = (t: Translate, kind: string) => t(`field.document.${kind}`);
export const typesText = (types: readonly FileTypeKey[]) => types.map((type) => type.toUpperCase()).join(', ');
/** The `accept` attribute of a file input: the extensions and media types a kind takes. */
export const acceptAttribute = (types: readonly FileTypeKey[]) =>
  types.flatMap((type) => [...fileTypes[type].extensions.map((ext) => `.${ext}`), fileTypes[type].mediaType]).join(',');

const verdictTone: Record<DocumentVerdict | 'missing', string> = { missing: 'neutral', pending: 'info', accepted: 'success', remark: 'warning' };

/** A problem of an upload or of a document in words; sizes are shown as sizes. */
export function describeDocumentProblem(t: Translate, lang: 'ru' | 'en', problem: FieldProblem): string {
  const params: Record<string, string | number> = { ...(problem.params ?? {}) };
  if (typeof params.max === 'number') params.max = formatBytes(params.max, t, lang);
  if (typeof params.kind === 'string') params.document = kindLabel(t, params.kind);
  return problemText(t, lang, { ...problem, params: {} }, params);
}

/** What the documents card shows (views/partials/documents.eta): one row per kind, with the forms the actor may use. */
export function documentsCard(engine: Engine, _actor: Actor, loaded: LoadedApplication, options: EventOption[], t: Translate, lang: 'ru' | 'en', timeZone: string) {
  const { row } = loaded;
  const { rows } = applicationDocuments(engine, loaded);
  const mayAttach = options.some((option) => option.type === 'attach-document');
  const mayReview = options.some((option) => option.type === 'review-document');
  const items = rows.map(({ kind, rule, entry }) => {
    const file = entry?.file ?? null;
    const status: DocumentVerdict | 'missing' = file ? (entry?.verdict ?? 'pending') : entry?.verdict === 'remark' ? 'remark' : 'missing';
    const type = file ? fileTypeOfMedia(file.mediaType) : undefined;
    const base = `/applications/${row.id}/documents`;
    return {
      kind: kind as DocumentKind,
      label: kindLabel(t, kind),
      required: rule?.required ?? false,
      requiredText: t(rule?.required ? 'documents.required' : 'documents.optional'),
      formats: rule ? t('documents.formats', { types: typesText(rule.fileTypes), size: formatBytes(rule.maxBytes, t, lang) }) : '',
      accept: rule ? acceptAttribute(rule.fileTypes) : '',
      status,
      statusText: t(`documents.status.${status}`),
      tone: verdictTone[status],
      remark: entry?.verdict === 'remark' ? entry.remark : null,
      file: file && {
        name: file.name,
        size: formatBytes(file.size, t, lang),
        attachedAt: t('documents.attachedAt', { date: formatDateTime(file.attachedAt, timeZone, lang) }),
        downloadUrl: `${base}/${file.sha256}`,
        previewUrl: type && fileTypes[type].preview ? `${base}/${file.sha256}/preview` : null,
        sha256: file.sha256,
      },
      canUpload: mayAttach && rule !== null,
      canAccept: mayReview && file !== null && status !== 'accepted',
      canRemark: mayReview,
      uploadLabel: t('documents.chooseFile', { kind: kindLabel(t, kind) }),
      acceptLabel: t('documents.acceptOf', { kind: kindLabel(t, kind) }),
      remarkLabel: t('documents.remarkFor', { kind: kindLabel(t, kind) }),
    };
  });
  const required = items.filter((item) => item.required);
  return {
    id: row.id,
    version: row.version,
    items,
    mayAttach,
    mayReview,
    hint: mayAttach ? t('documents.hintApplicant') : mayReview ? t('documents.hintReviewer') : null,
    summary: t('documents.summary', {
      required: required.length,
      attached: required.filter((item) => item.file).length,
      accepted: required.filter((item) => item.status === 'accepted').length,
    }),
    requirementsUrl: `/programmes/${row.programmeId}/documents`,
    // A remark stays visible to the applicant while the application waits for its revision.
    showRemarks: documentRemarksShown(row.state, mayReview),
  };
}

/** The details of a document event in the history table. */
export function documentHistoryDetails(t: Translate, lang: 'ru' | 'en', type: string, payload: Record<string, unknown>): string[] {
  const kind = typeof payload.kind === 'string' ? kindLabel(t, payload.kind) : '';
  if (type === 'attach-document' && typeof payload.name === 'string' && typeof payload.size === 'number') {
    return [t('documents.historyFile', { kind, name: payload.name, size: formatBytes(payload.size, t, lang) })];
  }
  if (type === 'review-document') {
    return [payload.verdict === 'accepted' ? t('documents.historyAccepted', { kind }) : t('documents.historyRemark', { kind, remark: String(payload.remark ?? '') })];
  }
  return [];
}
