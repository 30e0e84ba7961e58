/**
 * Cached Intl formatters. Each `new Intl.DateTimeFormat` (and each `toLocaleString` with options)
 * builds an ICU formatter in native memory that the garbage collector does not see; a page that
 * formats a hundred dates made a hundred of them, and the process grew by hundreds of megabytes
 * under load (bench/run.ts shows it). The formatters are immutable, so one per locale and options
 * serves every request.
 */

const LIMIT = 512;
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let formatter = cache.get(key);
  if (!formatter) {
    // Options come from our code and time zones from stored programmes: a handful of keys. The
    // bound only keeps a mistake from growing the cache without end.
    if (cache.size >= LIMIT) cache.clear();
    formatter = make();
    cache.set(key, formatter);
  }
  return formatter;
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(dateTimeFormats, `${locale}|${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  return cached(numberFormats, `${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

/** The locale our two languages format numbers and dates in. */
export const localeOf = (lang: string): string => (lang === 'ru' ? 'ru-RU' : 'en-GB');
