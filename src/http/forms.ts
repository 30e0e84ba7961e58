import { fieldKinds, formFields, formPatchSchema, type ApplicationForm, type Remark } from '../domain/application.ts';
import { parseRoubles } from '../domain/money.ts';
import { zodProblems, type FieldProblem } from '../domain/problems.ts';
import { contributionSources, daySchema, milestoneKinds } from '../domain/implementation.ts';

export { fieldKinds };


/** A form post's value: the first if the key was repeated, and only strings. */
export function bodyText(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function setPath(target: Record<string, unknown>, field: string, value: unknown) {
  const [head, tail] = field.split('.') as [string, string | undefined];
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const nested = (target[head] ??= {}) as Record<string, unknown>;
  nested[tail] = value;
}

/**
 * Reads the application form as posted by the HTML page into the API's shape. Empty fields are
 * left out (a draft may be incomplete); what cannot be read becomes a problem on its field.
 */
export function readApplicationForm(body: Record<string, unknown>, lang: 'ru' | 'en' = 'ru'): { form: ApplicationForm; problems: FieldProblem[]; entered: Record<string, unknown> } {
  const raw: Record<string, unknown> = {};
  // What the person typed, shown back as typed when the form is refused: never the stored value beside an error.
  const entered: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const field of formFields) {
    const text = bodyText(body, field)?.trim();
    if (text === undefined || text === '') continue;
    setPath(entered, field, text);
    const kind = fieldKinds[field];
    if (kind === 'int') {
      // A sign is read too, so that −5 is told what is allowed (not less than 0), not that it is no number.
      const digits = text.replace(/[\s\u00a0]/g, '').replace(/^[\u2212\u2013]/, '-');
      if (!/^-?\d{1,12}$/.test(digits)) problems.push({ field, code: 'not-a-number' });
      else setPath(raw, field, Number(digits));
    } else if (kind === 'money') {
      const kopecks = parseRoubles(text, lang);
      if (kopecks === null) problems.push({ field, code: 'not-money' });
      else setPath(raw, field, kopecks);
    } else {
      setPath(raw, field, text);
    }
  }
  const parsed = formPatchSchema.safeParse(raw);
  if (!parsed.success) {
    for (const problem of zodProblems(parsed.error)) if (!problems.some((p) => p.field === problem.field)) problems.push(problem);
    return { form: {}, problems, entered };
  }
  return { form: parsed.data, problems, entered };
}

/** The stored form with what the person typed laid over it, nested money fields merged one by one. */
export function withEntered(stored: ApplicationForm, entered: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...stored, ...entered };
  for (const group of ['costs', 'nonMonetary'] as const) {
    if (entered[group]) shown[group] = { ...stored[group], ...(entered[group] as Record<string, unknown>) };
  }
  return shown;
}

/** The changed fields only, so that each update event in the log says exactly what changed. */
export function formChanges(before: ApplicationForm, after: ApplicationForm): ApplicationForm {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    const old = (before as Record<string, unknown>)[key];
    if (value !== null && typeof value === 'object') {
      const nested: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if ((old as Record<string, unknown> | undefined)?.[k] !== v) nested[k] = v;
      if (Object.keys(nested).length > 0) changes[key] = nested;
    } else if (old !== value) {
      changes[key] = value;
    }
  }
  return changes as ApplicationForm;
}

/** The remarks of a return for revision as posted: a general text and `remark.<field>` texts. */
export function readRemarks(body: Record<string, unknown>): Remark[] {
  const remarks: Remark[] = [];
  const general = bodyText(body, 'remark.general')?.trim();
  if (general) remarks.push({ field: 'general', text: general });
  for (const field of formFields) {
    const text = bodyText(body, `remark.${field}`)?.trim();
    if (text) remarks.push({ field, text });
  }
  return remarks;
}

export interface EventField {
  /** The payload's key; a dotted name (`amounts.subsidy`, `actual.business`) is a nested key. */
  name: string;
  kind: 'text' | 'textarea' | 'money' | 'int' | 'decimal' | 'date' | 'select';
  required: boolean;
  /** A select's values, their words under `labels` + value (`source.residents`). */
  options?: readonly string[];
  labels?: string;
  /** A select of the application's own records, by their place in the stream (a number). */
  records?: 'standing-contributions' | 'open-visits';
  /** The label's catalogue key when `field.<name>` means something else here. */
  label?: string;
}

const money = (name: string): EventField => ({ name, kind: 'money', required: true });
const amountFields = (group: string) => ['subsidy', 'localBudget', 'residents', 'business'].map((key) => money(`${group}.${key}`));

/** What each event asks of the person who sends it from a page; events not listed ask nothing. */
export const eventFields: Record<string, EventField[]> = {
  withdraw: [{ name: 'reason', kind: 'textarea', required: true }],
  reject: [{ name: 'reason', kind: 'textarea', required: true }],
  terminate: [{ name: 'reason', kind: 'textarea', required: true }],
  accept: [{ name: 'comment', kind: 'textarea', required: false }],
  score: [
    { name: 'significance', kind: 'decimal', required: true },
    { name: 'comment', kind: 'textarea', required: false },
  ],
  // After the award (issue 11): src/domain/implementation.ts checks what these fields carry.
  'sign-agreement': [{ name: 'agreementNo', kind: 'text', required: true }, { name: 'signedOn', kind: 'date', required: true }, ...amountFields('amounts')],
  'record-contribution': [
    { name: 'source', kind: 'select', required: true, options: contributionSources, labels: 'source.' },
    { name: 'amountKopecks', kind: 'money', required: true, label: 'impl.amount' },
    { name: 'receivedOn', kind: 'date', required: true },
    { name: 'payer', kind: 'text', required: false },
    { name: 'reference', kind: 'text', required: false },
  ],
  'cancel-contribution': [
    { name: 'seq', kind: 'select', required: true, records: 'standing-contributions' },
    { name: 'reason', kind: 'textarea', required: true },
  ],
  'sign-contract': [
    { name: 'contractNo', kind: 'text', required: true },
    { name: 'signedOn', kind: 'date', required: true },
    { name: 'contractor', kind: 'text', required: true },
    { name: 'contractorInn', kind: 'text', required: true },
    { name: 'priceKopecks', kind: 'money', required: true },
    { name: 'noticeNo', kind: 'text', required: false },
  ],
  'record-milestone': [
    { name: 'kind', kind: 'select', required: true, options: milestoneKinds, labels: 'milestone.' },
    { name: 'on', kind: 'date', required: true },
    { name: 'note', kind: 'textarea', required: false },
  ],
  'report-progress': [
    { name: 'percent', kind: 'int', required: true },
    { name: 'note', kind: 'textarea', required: false },
  ],
  'record-monitoring': [
    { name: 'visitedOn', kind: 'date', required: true },
    { name: 'inspector', kind: 'text', required: true },
    { name: 'verdict', kind: 'select', required: true, options: ['ok', 'issues'], labels: 'verdict.' },
    { name: 'finding', kind: 'textarea', required: true },
  ],
  'resolve-issue': [
    { name: 'seq', kind: 'select', required: true, records: 'open-visits' },
    { name: 'note', kind: 'textarea', required: true },
  ],
  'report-spending': amountFields('actual'),
  // The assignment card's own form sends it (views/partials/assignment.eta), not the decision buttons.
  assign: [{ name: 'reviewerId', kind: 'int', required: true }],
};

/** Events whose button is a plain click; the others open a small panel with their fields. */
export const dangerousEvents = new Set(['reject', 'withdraw', 'terminate']);

/** Reads an event's payload from a page's form post; problems name the field. */
export function readEventPayload(type: string, body: Record<string, unknown>, lang: 'ru' | 'en' = 'ru'): { payload: Record<string, unknown>; problems: FieldProblem[] } {
  const payload: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  if (type === 'return-for-revision') {
    // No remarks may still be enough when the reviewer remarked on documents: the machine decides.
    const remarks = readRemarks(body);
    return { payload: remarks.length > 0 ? { remarks } : {}, problems };
  }
  // Own keys only: a posted type such as `constructor` must ask nothing, not iterate Object's members.
  const fields = Object.hasOwn(eventFields, type) ? eventFields[type]! : [];
  for (const field of fields) {
    const text = bodyText(body, field.name)?.trim() ?? '';
    if (text === '') {
      if (field.required) problems.push({ field: field.name, code: 'required' });
      continue;
    }
    const set = (value: unknown) => setPath(payload, field.name, value);
    if (field.kind === 'money') {
      const kopecks = parseRoubles(text, lang);
      if (kopecks === null) problems.push({ field: field.name, code: 'not-money' });
      else set(kopecks);
    } else if (field.kind === 'int') {
      const digits = text.replace(/^[\u2212\u2013]/, '-');
      if (!/^-?\d{1,9}$/.test(digits)) problems.push({ field: field.name, code: 'not-a-number' });
      else set(Number(digits));
    } else if (field.kind === 'decimal') {
      const value = Number(text.replace(',', '.'));
      if (!/^\d{1,3}([.,]\d{1,2})?$/.test(text) || Number.isNaN(value)) problems.push({ field: field.name, code: 'invalid' });
      else set(value);
    } else if (field.kind === 'date') {
      // The browser's date input sends YYYY-MM-DD; a day that does not exist is the schema's to name.
      if (!daySchema.safeParse(text).success) problems.push({ field: field.name, code: 'not-a-date' });
      else set(text);
    } else if (field.kind === 'select' && field.records) {
      if (!/^\d{1,9}$/.test(text)) problems.push({ field: field.name, code: 'invalid_value' });
      else set(Number(text));
    } else if (field.kind === 'select' && field.options) {
      if (!field.options.includes(text)) problems.push({ field: field.name, code: 'invalid_value' });
      else set(text);
    } else {
      set(text);
    }
  }
  return { payload, problems };
}

/** What was typed into an event's fields, as typed: the refused form shows it again beside its errors. */
export function typedValues(type: string, body: Record<string, unknown>): Record<string, string> {
  const fields = Object.hasOwn(eventFields, type) ? eventFields[type]! : [];
  const values: Record<string, string> = {};
  for (const field of fields) {
    const text = bodyText(body, field.name);
    if (text !== undefined) values[field.name] = text;
  }
  return values;
}
