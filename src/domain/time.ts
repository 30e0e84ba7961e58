import { dateTimeFormat, localeOf } from './intl.ts';

/**
 * The two formats every list and page uses, kept by language and zone: `dateTimeFormat` keys its
 * cache by the options' JSON, which a page of a hundred dates made a hundred times (issue 18).
 */
const dayAndTime = new Map<string, Intl.DateTimeFormat>();
const dayOnly = new Map<string, Intl.DateTimeFormat>();

function kept(cache: Map<string, Intl.DateTimeFormat>, lang: 'ru' | 'en', timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}`;
  let format = cache.get(key);
  if (!format) {
    format = dateTimeFormat(localeOf(lang), { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}) });
    if (cache.size >= 256) cache.clear();
    cache.set(key, format);
  }
  return format;
}

/** Stored times are UTC ISO strings; people see them in the programme's time zone. */
export function formatDateTime(iso: string | null | undefined, timeZone: string, lang: 'ru' | 'en' = 'ru'): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return kept(dayAndTime, lang, timeZone, true).format(date);
}

export function formatDate(iso: string | null | undefined, timeZone: string, lang: 'ru' | 'en' = 'ru'): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return kept(dayOnly, lang, timeZone, false).format(date);
}

/** A calendar day stored as `YYYY-MM-DD` (a planned date: no time, no zone) as people write it: 01.03.2027. */
export function formatDay(day: string | null | undefined, lang: 'ru' | 'en' = 'ru'): string {
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return '—';
  return kept(dayOnly, lang, 'UTC', false).format(new Date(`${day}T00:00:00Z`));
}

/** The short name of the zone offset, e.g. "GMT+4", shown beside times so that nobody guesses. */
export function zoneLabel(timeZone: string, at = new Date()): string {
  const part = dateTimeFormat('en-GB', { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
}

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The IANA zones of Russia (tzdata's zone.tab), west to east, that a programme's form offers;
 * a zone the runtime does not know is left out rather than offered and then refused.
 */
export const russianTimeZones: readonly string[] = [
  'Europe/Kaliningrad',
  'Europe/Moscow',
  'Europe/Kirov',
  'Europe/Volgograd',
  'Europe/Astrakhan',
  'Europe/Saratov',
  'Europe/Ulyanovsk',
  'Europe/Samara',
  'Asia/Yekaterinburg',
  'Asia/Omsk',
  'Asia/Novosibirsk',
  'Asia/Barnaul',
  'Asia/Tomsk',
  'Asia/Novokuznetsk',
  'Asia/Krasnoyarsk',
  'Asia/Irkutsk',
  'Asia/Chita',
  'Asia/Yakutsk',
  'Asia/Khandyga',
  'Asia/Vladivostok',
  'Asia/Ust-Nera',
  'Asia/Magadan',
  'Asia/Sakhalin',
  'Asia/Srednekolymsk',
  'Asia/Kamchatka',
  'Asia/Anadyr',
].filter(isTimeZone);

/** A zone as a person picks it: its IANA name, its name in the language, and its offset, e.g. "Europe/Samara — Самарское стандартное время (GMT+4)". */
export function zoneName(timeZone: string, lang: 'ru' | 'en', at = new Date()): string {
  const offset = zoneLabel(timeZone, at);
  const name = dateTimeFormat(localeOf(lang), { timeZone, timeZoneName: 'long' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  // ICU names some zones only by their offset: say it once.
  return name && !/^(GMT|UTC)/.test(name) ? `${timeZone} — ${name} (${offset})` : `${timeZone} (${offset})`;
}
