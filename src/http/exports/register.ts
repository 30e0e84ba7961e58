import ExcelJS from 'exceljs';
import { formatPoints } from '../../domain/criteria.ts';
import { formatDate } from '../../domain/time.ts';
import { xmlSafeText } from '../../domain/text.ts';
import type { Lang, Translate } from '../../i18n/index.ts';
import type { Register, RegisterRow, RegisterTotals } from '../../workflows/application/register.ts';
import { csvCell, neutralise } from './ranking.ts';

/**
 * The register as a spreadsheet (issue 13): CSV with a byte-order mark, `;` between cells and
 * texts neutralised against formula injection (the ranking's helpers), and XLSX by exceljs with
 * a frozen header, roubles as numbers in a rouble format, the totals as SUM formulas and an
 * autofilter over the table.
 */

type Kind = 'text' | 'money' | 'points';
interface RegisterColumn {
  key: string;
  kind: Kind;
  value: (row: RegisterRow) => string | number | null;
  total?: keyof RegisterTotals;
}

export function registerColumns(t: Translate, lang: Lang, timeZone: string): RegisterColumn[] {
  return [
    { key: 'number', kind: 'text', value: (r) => r.number },
    { key: 'title', kind: 'text', value: (r) => r.title },
    { key: 'submitted', kind: 'text', value: (r) => formatDate(r.firstSubmittedAt, timeZone, lang) },
    { key: 'municipality', kind: 'text', value: (r) => r.municipality },
    { key: 'settlement', kind: 'text', value: (r) => r.settlement ?? '' },
    { key: 'type', kind: 'text', value: (r) => (r.projectType ? t(`projectType.${r.projectType}`) : '') },
    { key: 'state', kind: 'text', value: (r) => t(`state.${r.state}`) },
    { key: 'subsidy', kind: 'money', value: (r) => r.subsidyKopecks, total: 'subsidyKopecks' },
    { key: 'localBudget', kind: 'money', value: (r) => r.localBudgetKopecks, total: 'localBudgetKopecks' },
    { key: 'residents', kind: 'money', value: (r) => r.residentsKopecks, total: 'residentsKopecks' },
    { key: 'business', kind: 'money', value: (r) => r.businessKopecks, total: 'businessKopecks' },
    { key: 'total', kind: 'money', value: (r) => r.totalKopecks, total: 'totalKopecks' },
    { key: 'score', kind: 'points', value: (r) => r.scoreCenti },
    { key: 'awarded', kind: 'money', value: (r) => r.awardedKopecks, total: 'awardedKopecks' },
    { key: 'decided', kind: 'text', value: (r) => (r.decidedAt ? formatDate(r.decidedAt, timeZone, lang) : '') },
    { key: 'received', kind: 'money', value: (r) => r.receivedKopecks, total: 'receivedKopecks' },
    { key: 'spent', kind: 'money', value: (r) => r.spentKopecks, total: 'spentKopecks' },
  ];
}

/** Kopecks as plain digits with the language's decimal mark and no grouping, so that a spreadsheet reads a number. */
function plainMoney(kopecks: number, lang: Lang): string {
  const sign = kopecks < 0 ? '-' : '';
  const abs = Math.abs(kopecks);
  return `${sign}${Math.floor(abs / 100)}${lang === 'ru' ? ',' : '.'}${String(abs % 100).padStart(2, '0')}`;
}

export function registerCsv(t: Translate, lang: Lang, timeZone: string, register: Register): string {
  const separator = ';';
  const columns = registerColumns(t, lang, timeZone);
  const cell = (column: RegisterColumn, value: string | number | null): string => {
    if (value === null) return '';
    if (column.kind === 'money') return plainMoney(value as number, lang);
    if (column.kind === 'points') return formatPoints(value as number, lang);
    return csvCell(neutralise(String(value)), separator);
  };
  const lines = [columns.map((c) => csvCell(neutralise(t(`register.col.${c.key}`)), separator)).join(separator)];
  for (const row of register.rows) lines.push(columns.map((c) => cell(c, c.value(row))).join(separator));
  lines.push(
    columns
      .map((c, i) => (i === 0 ? csvCell(t('register.totals'), separator) : i === 1 ? String(register.totals.count) : c.total ? cell(c, register.totals[c.total]) : ''))
      .join(separator),
  );
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** The rouble format of the register's money cells: grouped, two decimals, the sign after. */
export const roubleFormat = '#,##0.00 "₽"';

/** The spreadsheet's letters of a column: 1 → A, 27 → AA. */
export function columnLetter(index: number): string {
  let n = index;
  let letters = '';
  while (n > 0) {
    const rest = (n - 1) % 26;
    letters = String.fromCharCode(65 + rest) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

export async function registerXlsx(t: Translate, lang: Lang, timeZone: string, register: Register, created: Date): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = t('app.name');
  workbook.created = created;
  const sheet = workbook.addWorksheet(t('register.sheet'), { views: [{ state: 'frozen', ySplit: 1 }] });
  const columns = registerColumns(t, lang, timeZone);
  sheet.columns = columns.map((c) => ({ header: t(`register.col.${c.key}`), width: c.key === 'title' ? 40 : c.kind === 'text' ? 20 : 16 }));
  sheet.getRow(1).font = { bold: true };
  for (const row of register.rows) {
    sheet.addRow(
      columns.map((c) => {
        const value = c.value(row);
        if (value === null) return null;
        if (c.kind === 'money' || c.kind === 'points') return (value as number) / 100;
        // Texts written before the character rule (src/domain/text.ts) must not break the XML.
        return neutralise(xmlSafeText(String(value)));
      }),
    );
  }
  const first = 2;
  const last = register.rows.length + 1;
  const totals = sheet.addRow(
    columns.map((c, i) => {
      if (i === 0) return t('register.totals');
      if (i === 1) return register.totals.count;
      if (!c.total) return null;
      const letter = columnLetter(i + 1);
      // An empty register sums nothing: the formula's range would be upside down.
      return { formula: last >= first ? `SUM(${letter}${first}:${letter}${last})` : '0', result: register.totals[c.total] / 100 };
    }),
  );
  totals.font = { bold: true };
  columns.forEach((c, i) => {
    const column = sheet.getColumn(i + 1);
    if (c.kind === 'money') column.numFmt = roubleFormat;
    if (c.kind === 'points') column.numFmt = '0.00';
  });
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: Math.max(last, 1), column: columns.length } };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
