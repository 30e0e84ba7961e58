import { localeOf, numberFormat } from '../../domain/intl.ts';
import ExcelJS from 'exceljs';
import { formatPoints } from '../../domain/criteria.ts';
import { formatRoubles } from '../../domain/money.ts';
import { formatDateTime } from '../../domain/time.ts';
import { xmlSafeText } from '../../domain/text.ts';
import type { Lang, Translate } from '../../i18n/index.ts';
import type { DecisionView, RankingRow, RankingView } from '../../workflows/commission/reads.ts';

/**
 * The ranking as a spreadsheet (issue 5): CSV with a byte-order mark for Excel, safe against
 * formula injection, and XLSX built by exceljs. Both have the columns the protocol prints.
 */

export interface ExportColumn {
  header: string;
  kind: 'int' | 'text' | 'points' | 'money' | 'decimal';
  value: (row: RankingRow) => string | number | null;
}

export function rankingColumns(t: Translate, lang: Lang, view: RankingView): ExportColumn[] {
  const tz = view.programme.timeZone;
  return [
    { header: t('commission.col.rank'), kind: 'int', value: (r) => r.rank },
    { header: t('commission.col.number'), kind: 'int', value: (r) => r.applicationId },
    { header: t('commission.col.application'), kind: 'text', value: (r) => r.title },
    { header: t('commission.col.municipality'), kind: 'text', value: (r) => r.municipality },
    { header: t('commission.col.settlement'), kind: 'text', value: (r) => r.settlement ?? '' },
    { header: t('commission.col.firstSubmitted'), kind: 'text', value: (r) => formatDateTime(r.firstSubmittedAt, tz, lang) },
    ...view.settings.criteria.map(
      (c, i): ExportColumn => ({
        header: `${t(`commission.criterion.${c.key}`)} (${c.weight})`,
        kind: 'points',
        value: (r) => r.criteria[i]?.pointsCenti ?? 0,
      }),
    ),
    { header: t('commission.col.total'), kind: 'points', value: (r) => r.totalCenti },
    { header: t('commission.col.scoreCount'), kind: 'int', value: (r) => r.scores.length },
    {
      header: t('commission.col.significance'),
      kind: 'decimal',
      value: (r) => (r.scores.length === 0 ? null : r.scores.reduce((s, x) => s + x.significanceCenti, 0) / r.scores.length / 100),
    },
    { header: t('commission.col.requested'), kind: 'money', value: (r) => r.requestedKopecks },
    { header: t('commission.col.allocated'), kind: 'money', value: (r) => r.allocatedKopecks },
    { header: t('commission.col.fundLeft'), kind: 'money', value: (r) => r.fundLeftKopecks },
    { header: t('commission.col.outcome'), kind: 'text', value: (r) => t(`commission.outcome.${r.outcome}`) },
    { header: t('commission.col.why'), kind: 'text', value: (r) => (r.why ? t(`commission.why.${r.why}`) : '') },
  ];
}

/** A text cell that a spreadsheet would take for a formula gets a leading apostrophe (OWASP's advice). */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r|%]/.test(text) ? `'${text}` : text;
}

export function csvCell(text: string, separator: string): string {
  return /["\r\n]/.test(text) || text.includes(separator) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV as Excel opens it in each language: `;` and a decimal comma in Russian, `,` and a point in English. */
export function rankingCsv(t: Translate, lang: Lang, view: RankingView): string {
  const separator = lang === 'ru' ? ';' : ',';
  const columns = rankingColumns(t, lang, view);
  const cell = (column: ExportColumn, row: RankingRow): string => {
    const value = column.value(row);
    if (value === null) return '';
    switch (column.kind) {
      case 'int':
        return String(value);
      case 'points':
        return formatPoints(value as number, lang);
      case 'money':
        // Plain digits, no grouping, so that the spreadsheet reads a number.
        return formatRoubles(value as number, lang).replace(/[\u00a0,](?=\d{3}(\D|$))/g, '').replace(/\u00a0/g, '');
      case 'decimal': {
        const text = (value as number).toFixed(2);
        return lang === 'ru' ? text.replace('.', ',') : text;
      }
      default:
        return csvCell(neutralise(String(value)), separator);
    }
  };
  const lines = [columns.map((c) => csvCell(neutralise(c.header), separator)).join(separator)];
  for (const row of view.rows) lines.push(columns.map((c) => cell(c, row)).join(separator));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** The workbook: the ranking, the criteria, and what the decision recorded (when there is one). */
export async function rankingXlsx(t: Translate, lang: Lang, view: RankingView, decision: DecisionView | null): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = t('app.name');
  workbook.created = decision ? new Date(decision.decidedAt) : new Date(0);
  const sheet = workbook.addWorksheet(t('commission.xlsx.ranking'), { views: [{ state: 'frozen', ySplit: 1 }] });
  const columns = rankingColumns(t, lang, view);
  sheet.columns = columns.map((c) => ({ header: c.header, width: c.kind === 'text' ? 32 : 14 }));
  sheet.getRow(1).font = { bold: true };
  for (const row of view.rows) {
    sheet.addRow(
      columns.map((c) => {
        const value = c.value(row);
        if (value === null) return null;
        if (c.kind === 'points') return (value as number) / 100;
        if (c.kind === 'money') return (value as number) / 100;
        // Texts written before the character rule (src/domain/text.ts) must not break the XML.
        return typeof value === 'string' ? xmlSafeText(value) : value;
      }),
    );
  }
  columns.forEach((c, i) => {
    const column = sheet.getColumn(i + 1);
    if (c.kind === 'money') column.numFmt = '#,##0.00';
    if (c.kind === 'points' || c.kind === 'decimal') column.numFmt = '0.00';
  });

  const criteria = workbook.addWorksheet(t('commission.xlsx.criteria'));
  criteria.columns = [
    { header: t('commission.col.criterion'), width: 40 },
    { header: t('commission.col.weight'), width: 10 },
    { header: t('commission.col.formula'), width: 90 },
  ];
  criteria.getRow(1).font = { bold: true };
  for (const c of view.settings.criteria) {
    criteria.addRow([t(`commission.criterion.${c.key}`), c.weight, formulaText(t, c.key, c.weight, c.fullAtBp, view.programme.minLocalShareBp, lang)]);
  }

  const summary = workbook.addWorksheet(t('commission.xlsx.summary'));
  summary.columns = [{ width: 40 }, { width: 70 }];
  const money = (kopecks: number) => ({ money: kopecks / 100 });
  const facts: [string, string | number | { money: number }][] = [
    [t('commission.programme'), view.programme.title],
    [t('commission.fund'), money(view.programme.fundKopecks)],
    [t('commission.alreadyAwarded'), money(view.alreadyAwardedKopecks)],
    [t('commission.available'), money(view.availableKopecks)],
    [t('commission.cap'), money(view.programme.capKopecks)],
    [t('commission.allocated'), money(view.allocatedKopecks)],
    [t('commission.fundLeft'), money(view.fundLeftKopecks)],
    [t('commission.quorum'), view.settings.quorum],
    [t('commission.partialAward'), t(view.settings.partialAward ? 'commission.yes' : 'commission.no')],
  ];
  if (decision) {
    facts.push(
      [t('protocol.date'), formatDateTime(decision.decidedAt, view.programme.timeZone, lang)],
      [t('protocol.members'), decision.membersPresent.map((m) => m.name).join(', ')],
      [t('protocol.ledgerHead'), decision.ledgerHead],
      [t('protocol.ledgerEvents'), decision.ledgerEvents],
      [t('protocol.recordHash'), decision.recordHash],
    );
  } else {
    facts.push([t('commission.preliminary'), t('commission.preliminaryHint')]);
  }
  for (const [label, value] of facts) {
    if (typeof value === 'object') summary.addRow([label, value.money]).getCell(2).numFmt = '#,##0.00';
    else summary.addRow([label, typeof value === 'string' ? neutralise(xmlSafeText(value)) : value]);
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** A criterion's formula in words, with its weight and full-grade share filled in. */
export function formulaText(t: Translate, key: string, weight: number, fullAtBp: number | null, minLocalShareBp: number, lang: Lang = 'ru'): string {
  const pct = (bp: number) => `${numberFormat(localeOf(lang), { maximumFractionDigits: 2 }).format(bp / 100)} %`;
  return t(`commission.formula.${key}`, { weight, full: fullAtBp === null ? '' : pct(fullAtBp), min: pct(minLocalShareBp) });
}
