import { formatRoubles } from '../domain/money.ts';
import type { FieldProblem } from '../domain/problems.ts';
import { journalChoices, journalVisibleTo, journalDocumentRules, journalFieldKinds, journalFormFields, journalKindDocuments, requiredJournalFields, type JournalKind } from '../domain/journal.ts';
import type { Actor } from '../domain/roles.ts';
import type { Engine, EventOption, EventRow } from '../engine/engine.ts';
import { journalReads, listJournal } from '../workflows/journal/reads.ts';
import { stageReads } from '../workflows/stage/reads.ts';
import { stageDefinitions, withoutFinalMeeting } from '../../machines/stages.ts';
import { journalRecordOptions, takeableDocuments } from '../workflows/journal/commands.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import type { JournalRow } from '../workflows/journal/reads.ts';
import { journalStanding, type JournalContext } from '../../machines/journal.ts';
import { acceptAttribute, describeDocumentProblem, formatBytes, typesText } from './documents-view.ts';

/** The catalogue key of a choice's label: the announcement's channel is not the consultation's. */
export function choiceKey(kind: JournalKind, field: string, value: string): string {
  if (field === 'format') return `journal.format.${value}`;
  return kind === 'announcement' ? `journal.channel.${value}` : `journal.consultationChannel.${value}`;
}

/** A field's label; the date is "published on" for an announcement, "held on" for the rest. */
export function fieldLabel(t: Translate, kind: JournalKind, field: string): string {
  return field === 'date' && kind === 'announcement' ? t('journal.field.publishedOn') : t(`journal.field.${field}`);
}

/** A problem of a journal form in words: the machine's codes are catalogue keys, the uploads' are the documents'. */
export function journalProblemText(t: Translate, lang: Lang, problem: FieldProblem): string {
  if (problem.code.startsWith('journal.')) return t(problem.code, problem.params ?? {});
  return describeDocumentProblem(t, lang, problem);
}

export function journalProblemsByField(t: Translate, lang: Lang, problems: readonly FieldProblem[]): Record<string, string> {
  const byField: Record<string, string> = {};
  for (const problem of problems) byField[problem.field] ??= journalProblemText(t, lang, problem);
  return byField;
}

/** The form of one kind: its fields with their inputs, its documents with the files they take. */
export function journalFormModel(t: Translate, lang: Lang, kind: JournalKind, municipalities: readonly { id: number; name: string }[]) {
  const required = requiredJournalFields(kind);
  return {
    kind,
    fields: journalFormFields[kind].map((field) => ({
      name: field,
      label: fieldLabel(t, kind, field),
      type: journalFieldKinds[field],
      required: required.includes(field),
      choices: journalChoices(kind, field).map((value) => ({ value, label: t(choiceKey(kind, field, value)) })),
      hint: journalFieldKinds[field] === 'money' ? t('hint.money') : field === 'applicationId' ? t('journal.hint.applicationId') : null,
    })),
    documents: journalKindDocuments[kind].map((role) => ({
      role,
      label: t(`journal.document.${role}`),
      accept: acceptAttribute(journalDocumentRules[role].fileTypes),
      hint: t('journal.hint.document', { types: typesText(journalDocumentRules[role].fileTypes), max: formatBytes(journalDocumentRules[role].maxBytes, t, lang) }),
    })),
    municipalities,
  };
}

/** One field of a recorded entry in words. */
function valueText(t: Translate, lang: Lang, kind: JournalKind, field: string, value: unknown, names: ReadonlyMap<number, string>, label: ApplicationLabel): string {
  const type = journalFieldKinds[field];
  if (type === 'choice' && typeof value === 'string') return t(choiceKey(kind, field, value));
  if (type === 'money' && typeof value === 'number') return `${formatRoubles(value, lang)} ₽`;
  if (type === 'municipality' && typeof value === 'number') return names.get(value) ?? String(value);
  if (type === 'municipalities' && Array.isArray(value)) return value.map((id) => names.get(id as number) ?? String(id)).join(', ');
  if (type === 'application' && typeof value === 'number') return t('app.number', { id: label(value) });
  return String(value);
}

/** What names an application: its registration number, or the id of one never numbered (issue 13). */
export type ApplicationLabel = (id: number) => string;
const byId: ApplicationLabel = (id) => String(id);

/** A recorded entry's fields as label and value, in the form's order, with links where a value names an application. */
export function entryFields(t: Translate, lang: Lang, kind: JournalKind, fields: Record<string, unknown>, names: ReadonlyMap<number, string>, label: ApplicationLabel = byId) {
  return journalFormFields[kind]
    .filter((field) => fields[field] !== undefined && fields[field] !== null)
    .map((field) => ({
      field,
      label: fieldLabel(t, kind, field),
      value: valueText(t, lang, kind, field, fields[field], names, label),
      href: journalFieldKinds[field] === 'application' ? `/applications/${String(fields[field])}` : null,
      long: journalFieldKinds[field] === 'textarea',
    }));
}

/** A list row in words. */
export function journalListRow(t: Translate, row: JournalRow, names: ReadonlyMap<number, string>) {
  const covered = row.kind === 'training' ? row.municipalities.map((id) => names.get(id) ?? String(id)) : [];
  return {
    ...row,
    kindLabel: t(`journal.kind.${row.kind}`),
    superseded: !journalStanding(row.state),
    href: `/programmes/${row.programmeId}/journal/${row.id}`,
    where: row.kind === 'training' ? t('journal.municipalitiesCount', { count: covered.length }) : (row.municipalityName ?? '—'),
    whereTitle: covered.join(', '),
  };
}

/** The history rows of an entry, for the history partial. */
export function journalHistoryRow(t: Translate, lang: Lang, event: EventRow, label: ApplicationLabel = byId) {
  const actor = JSON.parse(event.actor) as Actor;
  const payload = JSON.parse(event.payload) as Record<string, unknown>;
  const details: string[] = [];
  if (event.type === 'create' && typeof payload.kind === 'string') details.push(t(`journal.kind.${payload.kind}`));
  if (event.type === 'create' && typeof payload.supersedes === 'number') details.push(t('journal.supersedesNo', { id: payload.supersedes }));
  if (event.type === 'attach-document' && typeof payload.name === 'string') details.push(`${t(`journal.document.${String(payload.role)}`)}: ${payload.name} (${formatBytes(Number(payload.size), t, lang)})`);
  if (event.type === 'link-application') details.push(t('app.number', { id: label(Number(payload.applicationId)) }));
  if (event.type === 'supersede') details.push(t('journal.supersededByNo', { id: Number(payload.by) }));
  return { seq: event.seq, at: event.at, actor, type: event.type === 'create' ? 'journal-create' : `journal-${event.type}`, from: event.fromState, to: event.toState, details, hash: event.hash };
}

/** The documents of an entry, with their download links. */
export function entryDocuments(t: Translate, lang: Lang, programmeId: number, entryId: number, context: JournalContext) {
  return context.documents.map((document) => ({
    ...document,
    roleLabel: t(`journal.document.${document.role}`),
    sizeText: formatBytes(document.size, t, lang),
    href: `/programmes/${programmeId}/journal/${entryId}/documents/${document.sha256}`,
  }));
}

/**
 * The journal on an application's page (issue 14): its final meeting, its consultations, its
 * opening ceremony; the documents of a final meeting the applicant may take as the application's
 * own (when the application takes documents now), and a link for staff to record a consultation.
 */
export function applicationJournalCard(engine: Engine, actor: Actor, row: { id: number; programmeId: number; municipalityId: number }, documentOptions: readonly EventOption[], t: Translate, lang: Lang) {
  const mayAttach = documentOptions.some((option) => option.type === 'attach-document');
  const entries = journalReads(engine.db)
    .ofApplication(row.id)
    .filter((entry) => journalVisibleTo(actor, entry))
    .map((entry) => {
      const context = (JSON.parse(engine.loadStream(entry.streamId)!.snapshot) as { context: JournalContext }).context;
      return {
        ...entry,
        kindLabel: t(`journal.kind.${entry.kind}`),
        href: `/programmes/${entry.programmeId}/journal/${entry.id}`,
        fields: entryFields(t, lang, entry.kind, context.fields, new Map()).filter((f) => !['municipalityId', 'applicationId', 'consultant', 'date'].includes(f.field)),
        takeable: mayAttach ? context.documents.filter((d) => takeableDocuments[d.role] !== undefined).map((d) => ({ ...d, roleLabel: t(`journal.document.${d.role}`) })) : [],
      };
    });
  const consultation = journalRecordOptions(engine, actor, row.programmeId).find((option) => option.kind === 'consultation');
  return {
    entries,
    recordConsultation: consultation?.open ? `/programmes/${row.programmeId}/journal/new?kind=consultation&municipalityId=${row.municipalityId}&applicationId=${row.id}` : null,
  };
}

/**
 * What the journal evidences of a stage's tasks (issue 14), for the stage page: per task, the
 * standing entries of the kinds that evidence it (the latest few, and how many), a link to record
 * one when the actor may now, and for the final meetings the municipalities that applied without one.
 */
export function stageJournalEvidence(engine: Engine, actor: Actor, programmeId: number, stageKey: string, t: Translate) {
  const definition = stageDefinitions.find((d) => d.key === stageKey);
  if (!definition?.evidence) return null;
  const names = new Map<number, string>();
  const options = journalRecordOptions(engine, actor, programmeId);
  const tasks = Object.entries(definition.evidence).map(([task, kinds]) => {
    const rows = kinds.flatMap((kind) => listJournal(engine.db, actor, programmeId, { kind: kind as JournalKind }, 1000));
    rows.sort((a, b) => (a.heldOn < b.heldOn ? 1 : a.heldOn > b.heldOn ? -1 : b.id - a.id));
    return {
      task,
      title: t(`stage.task.${stageKey}.${task}`),
      count: rows.length,
      latest: rows.slice(0, 5).map((row) => journalListRow(t, row, names)),
      kinds: kinds.map((kind) => ({ kind, label: t(`journal.kind.${kind}`), href: options.find((o) => o.kind === kind)?.open ? `/programmes/${programmeId}/journal/new?kind=${kind}` : null })),
      listHref: `/programmes/${programmeId}/journal?${kinds.length === 1 ? `kind=${kinds[0]}` : `stage=${stageKey}`}`,
    };
  });
  const missing = stageKey === 'final-meetings' ? withoutFinalMeeting(stageReads(engine.db).stageFacts(programmeId)) : [];
  return { tasks, missing };
}
