/** Money is integer kopecks everywhere; these turn it into roubles for people and back. */

export function formatRoubles(kopecks: number | null | undefined, lang: 'ru' | 'en' = 'ru'): string {
  if (kopecks === null || kopecks === undefined) return '—';
  const sign = kopecks < 0 ? '-' : '';
  const abs = Math.abs(kopecks);
  const roubles = Math.floor(abs / 100).toString();
  const cents = (abs % 100).toString().padStart(2, '0');
  const groupSeparator = lang === 'ru' ? '\u00a0' : ',';
  const grouped = roubles.replace(/\B(?=(\d{3})+(?!\d))/g, groupSeparator);
  return `${sign}${grouped}${lang === 'ru' ? ',' : '.'}${cents}`;
}

/**
 * Whole roubles for summaries (the analytical report): kopecks rounded half away from zero, grouped
 * like formatRoubles, no fraction. Exact kopecks stay in the data (the XLSX's cells, the API).
 */
export function formatWholeRoubles(kopecks: number | null | undefined, lang: 'ru' | 'en' = 'ru'): string {
  if (kopecks === null || kopecks === undefined) return '—';
  const sign = kopecks < 0 ? '-' : '';
  const roubles = Math.floor((Math.abs(kopecks) + 50) / 100);
  if (roubles === 0) return '0';
  const groupSeparator = lang === 'ru' ? '\u00a0' : ',';
  return `${sign}${roubles.toString().replace(/\B(?=(\d{3})+(?!\d))/g, groupSeparator)}`;
}

/** The value a money input shows: plain, without grouping, so that it parses back. */
export function roublesInputValue(kopecks: number | null | undefined, lang: 'ru' | 'en' = 'ru'): string {
  if (kopecks === null || kopecks === undefined) return '';
  return `${Math.floor(kopecks / 100)}${lang === 'ru' ? ',' : '.'}${(kopecks % 100).toString().padStart(2, '0')}`;
}

/**
 * Parses roubles as people type them into kopecks: in Russian `1 234 567,89` or `1234567.8`, in
 * English `1,234,567.89`. Returns null for anything that is not a non-negative amount with at
 * most two decimals.
 */
export function parseRoubles(text: string, lang: 'ru' | 'en' = 'ru'): number | null {
  let cleaned = text.replace(/[\s\u00a0\u202f]/g, '').replace(/₽|руб\.?|rub\.?/gi, '');
  cleaned = lang === 'en' ? cleaned.replace(/,(?=\d{3}(\D|$))/g, '') : cleaned.replace(',', '.');
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(cleaned);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}
