import type { Translate } from '../../i18n/index.ts';
import { coverageKinds, type JournalCoverage } from '../../workflows/journal/coverage.ts';
import { neutralise } from './ranking.ts';

function cell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = neutralise(value);
  return /[";\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The coverage as CSV (issue 14): a byte-order mark so that Excel reads UTF-8, `;` between cells,
 * texts a spreadsheet would take for a formula neutralised; one row per municipality, then the totals.
 */
export function coverageCsv(t: Translate, coverage: JournalCoverage): string {
  const header = [
    t('journal.coverage.municipality'),
    t('journal.coverage.applied'),
    t('journal.coverage.applications'),
    ...coverageKinds.map((kind) => t(`journal.kind.${kind}`)),
    t('journal.coverage.participantsPreliminary'),
    t('journal.coverage.participantsFinal'),
    t('journal.coverage.participantsCeremonies'),
  ];
  const lines = [header.map(cell).join(';')];
  for (const row of coverage.rows) {
    lines.push(
      [row.name, t(row.applied ? 'journal.yes' : 'journal.no'), row.applications, ...coverageKinds.map((kind) => row.entries[kind]), row.participants.preliminary, row.participants.final, row.participants.ceremonies]
        .map(cell)
        .join(';'),
    );
  }
  const totals = coverage.totals;
  lines.push(
    [
      t('journal.coverage.totals'),
      totals.applied,
      coverage.rows.reduce((sum, row) => sum + row.applications, 0),
      ...coverageKinds.map((kind) => totals.entries[kind]),
      totals.participants['preliminary-meeting'],
      totals.participants['final-meeting'],
      totals.participants['opening-ceremony'],
    ]
      .map(cell)
      .join(';'),
  );
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
