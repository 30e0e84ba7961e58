import { formatRoubles } from '../../domain/money.ts';
import { formatDate } from '../../domain/time.ts';
import { translator, type Lang } from '../../i18n/index.ts';

/**
 * A notification in words (issue 12), in the reader's language: the inbox's line, the e-mail's
 * subject and body. The row stores codes and values only; the catalogues have the words
 * (`notify.<kind>.title`, `notify.<kind>.body`).
 */

export interface NotificationText {
  title: string;
  body: string;
}

function words(lang: Lang, params: Record<string, string | number>, timeZone: string): Record<string, string | number> {
  const t = translator(lang);
  const shown: Record<string, string | number> = { ...params };
  // The application is named by its registration number (issue 13); a notification written before numbers, by its id.
  if (shown.number === undefined && params.id !== undefined) shown.number = params.id;
  if (typeof params.amountKopecks === 'number') shown.amount = `${formatRoubles(params.amountKopecks, lang)} ₽`;
  if (typeof params.stage === 'string') shown.stage = t(`stage.name.${params.stage}`);
  if (typeof params.document === 'string') shown.document = t(`field.document.${params.document}`);
  if (typeof params.plannedEnd === 'string') shown.plannedEnd = params.plannedEnd ? formatDate(`${params.plannedEnd}T12:00:00Z`, timeZone, lang) : '—';
  if (typeof params.dueAt === 'string') shown.dueAt = formatDate(params.dueAt, timeZone, lang);
  if (typeof params.title === 'string' && params.title === '') shown.title = t('app.untitled');
  // The result of a decided application: the amount, or why not, in the reader's words.
  if (typeof params.outcome === 'string') {
    const why =
      typeof params.why === 'string'
        ? t(`commission.notAward.${params.why}`, { rank: Number(params.rank ?? 0), count: Number(params.count ?? 0) })
        : typeof params.reason === 'string'
          ? params.reason
          : typeof params.comment === 'string'
            ? params.comment
            : '';
    shown.result = t(`notify.result.${params.outcome}`, { amount: String(shown.amount ?? ''), why });
  }
  return shown;
}

/** The result of a decided application in words: "a winner, awarded …" or why not. */
export function resultWords(lang: Lang, params: Record<string, string | number>): string {
  return String(words(lang, params, 'Europe/Moscow').result ?? '');
}

export function notificationText(lang: Lang, kind: string, params: Record<string, string | number>, timeZone = 'Europe/Moscow'): NotificationText {
  const t = translator(lang);
  const shown = words(lang, params, timeZone);
  return { title: t(`notify.${kind}.title`, shown), body: t(`notify.${kind}.body`, shown) };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The e-mail of a notification: plain text and HTML with the same words and the link to the page. */
export function notificationMail(lang: Lang, kind: string, params: Record<string, string | number>, url: string, timeZone?: string): { subject: string; text: string; html: string } {
  const t = translator(lang);
  const { title, body } = notificationText(lang, kind, params, timeZone);
  const footer = t('notify.mail.footer');
  const open = t('notify.mail.open');
  const text = `${body}\n\n${open}: ${url}\n\n-- \n${footer}\n`;
  const paragraphs = body
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${paragraphs}
<p><a href="${escapeHtml(url)}">${escapeHtml(open)}</a></p>
<hr>
<p><small>${escapeHtml(footer)}</small></p>
</body></html>
`;
  return { subject: `${t('app.name')}: ${title}`, text, html };
}
