import ExcelJS from 'exceljs';
import type { Translate } from '../../i18n/index.ts';
import type { ReportTable, ReportView } from '../report-view.ts';
import { neutralise } from './ranking.ts';
import { columnLetter } from './register.ts';

/**
 * The analytical report as XLSX (issue 13), the programme's open data: one sheet per table of
 * the page, a frozen header, roubles as numbers in a rouble format, counts and ratios as numbers,
 * the totals rows as SUM formulas over the rows above, the ledger head on the summary sheet.
 */

/** Whole roubles shown, as on the page; the cells hold the exact sums (kopecks as the fraction). */
export const reportRoubleFormat = '#,##0 "₽"';

const formats = { money: reportRoubleFormat, count: '#,##0', ratio: '0.00', share: '0.0" %"' } as const;

function addTable(sheet: ExcelJS.Worksheet, table: ReportTable, startRow: number): number {
  const header = sheet.getRow(startRow);
  table.columns.forEach((label, i) => (header.getCell(i + 1).value = neutralise(label)));
  header.font = { bold: true };
  let row = startRow + 1;
  for (const r of table.rows) {
    const line = sheet.getRow(row);
    line.getCell(1).value = neutralise(r.label);
    r.cells.forEach((cell, i) => {
      const target = line.getCell(i + 2);
      if (cell.value === null) return;
      target.value = cell.kind === 'money' ? cell.value / 100 : cell.kind === 'share' ? cell.value / 100 : cell.value;
      target.numFmt = formats[cell.kind];
    });
    row += 1;
  }
  if (table.totals) {
    const line = sheet.getRow(row);
    line.getCell(1).value = neutralise(table.totals.label);
    table.totals.cells.forEach((cell, i) => {
      const letter = columnLetter(i + 2);
      const result = cell.value === null ? 0 : cell.kind === 'money' ? cell.value / 100 : cell.value;
      const target = line.getCell(i + 2);
      target.value = row > startRow + 1 ? { formula: `SUM(${letter}${startRow + 1}:${letter}${row - 1})`, result } : 0;
      target.numFmt = formats[cell.kind];
    });
    line.font = { bold: true };
    row += 1;
  }
  return row;
}

export const reportSheets = ['summary', 'byType', 'byMunicipality', 'byKind', 'funnel', 'notes'] as const;

export async function reportXlsx(t: Translate, view: ReportView, created: Date): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = t('app.name');
  workbook.created = created;
  const byKey = new Map(view.tables.map((table) => [table.key, table]));
  const sheetOf = (name: string) => workbook.addWorksheet(t(`report.sheet.${name}`), { views: [{ state: 'frozen', ySplit: 1 }] });
  // The summary: funds by source first (its header row frozen), then the other figures under it.
  const summary = sheetOf('summary');
  let next = addTable(summary, byKey.get('funds')!, 1);
  for (const key of ['summary', 'leverage', 'people']) next = addTable(summary, byKey.get(key)!, next + 1);
  summary.getRow(next + 1).getCell(1).value = neutralise(view.ledgerLine);
  summary.getColumn(1).width = 48;
  for (let i = 2; i <= 7; i += 1) summary.getColumn(i).width = 22;
  for (const [sheet, key] of [['byType', 'by-type'], ['byMunicipality', 'by-municipality'], ['byKind', 'by-kind'], ['funnel', 'funnel']] as const) {
    const worksheet = sheetOf(sheet);
    const table = byKey.get(key)!;
    addTable(worksheet, table, 1);
    worksheet.getColumn(1).width = 36;
    for (let i = 2; i <= table.columns.length; i += 1) worksheet.getColumn(i).width = 20;
    worksheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1 + table.rows.length, column: table.columns.length } };
  }
  // How each figure is computed, numbered as on the page: open data says what its numbers mean.
  const notes = sheetOf('notes');
  notes.getRow(1).values = ['№', t('report.section.notes')];
  notes.getRow(1).font = { bold: true };
  view.notes.forEach((note, i) => (notes.getRow(i + 2).values = [i + 1, neutralise(note.text)]));
  notes.getColumn(1).width = 6;
  notes.getColumn(2).width = 120;
  notes.getColumn(2).alignment = { wrapText: true, vertical: 'top' };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
