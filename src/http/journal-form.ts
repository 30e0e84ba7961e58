import { journalFieldKinds, journalFormFields, type JournalKind } from '../domain/journal.ts';
import { parseRoubles } from '../domain/money.ts';
import type { FieldProblem } from '../domain/problems.ts';
import { bodyText } from './forms.ts';

/** Every value a form sent under a key (checkboxes repeat theirs). */
function bodyValues(body: Record<string, unknown>, key: string): string[] {
  const value = body[key];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/**
 * Reads a journal form as posted by the page into the API's shape: numbers from digits, roubles
 * to kopecks, ids, the training's municipalities from their checkboxes. Empty fields are left out
 * (the machine says which are required); what cannot be read is a problem beside its field.
 */
export function readJournalForm(kind: JournalKind, body: Record<string, unknown>, lang: 'ru' | 'en'): { fields: Record<string, unknown>; problems: FieldProblem[]; entered: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  const entered: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const field of journalFormFields[kind]) {
    const type = journalFieldKinds[field];
    if (type === 'municipalities') {
      const ids = bodyValues(body, field).filter((v) => v !== '');
      entered[field] = ids;
      if (ids.length === 0) continue;
      if (ids.some((id) => !/^\d{1,9}$/.test(id))) problems.push({ field, code: 'journal.problem.invalid' });
      else fields[field] = ids.map(Number);
      continue;
    }
    const text = bodyText(body, field)?.trim();
    if (text === undefined || text === '') continue;
    entered[field] = text;
    const compact = text.replace(/[\s\u00a0]/g, '');
    if (type === 'int' || type === 'municipality' || type === 'application') {
      const digits = type === 'application' ? compact.replace(/^№/, '') : compact;
      if (!/^\d{1,9}$/.test(digits)) problems.push({ field, code: type === 'int' ? 'journal.problem.not-a-number' : 'journal.problem.invalid' });
      else fields[field] = Number(digits);
    } else if (type === 'money') {
      const kopecks = parseRoubles(text, lang);
      if (kopecks === null) problems.push({ field, code: 'journal.problem.not-money' });
      else fields[field] = kopecks;
    } else {
      fields[field] = text;
    }
  }
  return { fields, problems, entered };
}
