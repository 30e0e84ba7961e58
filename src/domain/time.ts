import { dateTimeFormat, localeOf } from './intl.ts';

/** Stored times are UTC ISO strings; people see them in the programme's time zone. */
export function formatDateTime(iso: string | null | undefined, timeZone: string, lang: 'ru' | 'en' = 'ru'): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return dateTimeFormat(localeOf(lang), {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(date);
}

export function formatDate(iso: string | null | undefined, timeZone: string, lang: 'ru' | 'en' = 'ru'): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return dateTimeFormat(localeOf(lang), { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/** The short name of the zone offset, e.g. "GMT+4", shown beside times so that nobody guesses. */
export function zoneLabel(timeZone: string, at = new Date()): string {
  const part = dateTimeFormat('en-GB', { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
}
