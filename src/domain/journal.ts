import { z } from 'zod';
import { MIB, documentNameSchema, mediaTypes, type FileTypeKey, type MediaType } from './documents.ts';
import type { Actor } from './roles.ts';
import { TEXT_CHARACTERS_PROBLEM, text } from './text.ts';

/**
 * The programme journal (issue 14): the events people hold — an announcement published, a
 * training, residents' preliminary and final meetings, consultations, opening ceremonies — each
 * kind with its own fields. Pure: the machine (machines/journal.ts) and the forms read these.
 */

export const journalKinds = ['announcement', 'training', 'preliminary-meeting', 'final-meeting', 'consultation', 'opening-ceremony'] as const;
export type JournalKind = (typeof journalKinds)[number];
export const isJournalKind = (value: unknown): value is JournalKind => typeof value === 'string' && (journalKinds as readonly string[]).includes(value);

export const announcementChannels = ['site', 'newspaper', 'radio', 'social-network', 'other'] as const;
export const trainingFormats = ['in-person', 'online'] as const;
export const consultationChannels = ['phone', 'visit', 'online', 'email'] as const;

/** The stages whose being active lets a kind be recorded (DESIGN §2 and the methodology's tasks). */
export const journalKindStages: Record<JournalKind, readonly string[]> = {
  announcement: ['preparation'],
  training: ['training'],
  'preliminary-meeting': ['preliminary-meetings', 'final-meetings'],
  'final-meeting': ['preliminary-meetings', 'final-meetings'],
  consultation: ['preliminary-meetings', 'final-meetings', 'documentation', 'intake', 'commission', 'legal', 'procurement', 'works'],
  'opening-ceremony': ['works'],
};

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'not a date');
const id = z.number().int().min(1).max(1_000_000_000);
const people = z.number().int().min(1).max(1_000_000);
const shortText = text({ max: 300 });
const longText = text({ max: 5000, multiline: true });
const kopecks = z.number().int().min(0).max(10_000_000_000_000);
const link = text({ max: 2000 }).refine((value) => /^https?:\/\/[^\s]+$/i.test(value), 'not a link');

/** Each kind's fields: what its form asks and its `create` event stores. */
export const journalFieldSchemas = {
  announcement: z
    .strictObject({ channel: z.enum(announcementChannels), date: isoDate, title: shortText, link: link.optional(), text: longText.optional() })
    .refine((value) => value.link !== undefined || value.text !== undefined, { message: 'a link or a text', path: ['link'] }),
  training: z.strictObject({
    date: isoDate,
    topic: shortText,
    format: z.enum(trainingFormats),
    place: shortText.optional(),
    municipalityIds: z.array(id).min(1).max(500).refine((ids) => new Set(ids).size === ids.length, 'each municipality once'),
    participants: people,
  }),
  'preliminary-meeting': z.strictObject({
    municipalityId: id,
    settlement: shortText,
    date: isoDate,
    attendance: people,
    problems: longText,
    pledgeKopecks: kopecks.optional(),
  }),
  'final-meeting': z.strictObject({
    municipalityId: id,
    settlement: shortText,
    date: isoDate,
    attendance: people,
    project: longText,
    pledgeKopecks: kopecks.optional(),
    applicationId: id.optional(),
  }),
  consultation: z.strictObject({
    municipalityId: id,
    applicationId: id.optional(),
    date: isoDate,
    channel: z.enum(consultationChannels),
    topic: shortText,
    question: longText,
    answer: longText,
    consultant: shortText,
  }),
  'opening-ceremony': z.strictObject({ applicationId: id, date: isoDate, participants: people }),
} as const satisfies Record<JournalKind, z.ZodType>;

export type JournalFields = { [K in JournalKind]: z.output<(typeof journalFieldSchemas)[K]> };
export type AnyJournalFields = JournalFields[JournalKind];

/** The form's fields of each kind, in the order the form shows them. */
export const journalFormFields: Record<JournalKind, readonly string[]> = {
  announcement: ['channel', 'date', 'title', 'link', 'text'],
  training: ['date', 'topic', 'format', 'place', 'municipalityIds', 'participants'],
  'preliminary-meeting': ['municipalityId', 'settlement', 'date', 'attendance', 'problems', 'pledgeKopecks'],
  'final-meeting': ['municipalityId', 'settlement', 'date', 'attendance', 'project', 'pledgeKopecks', 'applicationId'],
  consultation: ['municipalityId', 'applicationId', 'date', 'channel', 'topic', 'question', 'answer', 'consultant'],
  'opening-ceremony': ['applicationId', 'date', 'participants'],
};

/** How a form field is read and shown. */
export type JournalFieldKind = 'date' | 'text' | 'textarea' | 'int' | 'money' | 'municipality' | 'municipalities' | 'application' | 'choice';
export const journalFieldKinds: Record<string, JournalFieldKind> = {
  channel: 'choice',
  format: 'choice',
  date: 'date',
  title: 'text',
  link: 'text',
  text: 'textarea',
  topic: 'text',
  place: 'text',
  municipalityIds: 'municipalities',
  participants: 'int',
  municipalityId: 'municipality',
  settlement: 'text',
  attendance: 'int',
  problems: 'textarea',
  project: 'textarea',
  pledgeKopecks: 'money',
  applicationId: 'application',
  question: 'textarea',
  answer: 'textarea',
  consultant: 'text',
};

/** The choices of a `choice` field, by kind (the consultation's channel is not the announcement's). */
export function journalChoices(kind: JournalKind, field: string): readonly string[] {
  if (field === 'format') return trainingFormats;
  if (field === 'channel') return kind === 'announcement' ? announcementChannels : consultationChannels;
  return [];
}

/** The fields that must be there (the rest may be left empty). */
export function requiredJournalFields(kind: JournalKind): string[] {
  const shape = (journalFieldSchemas[kind] as unknown as { shape: Record<string, z.ZodType> }).shape;
  return Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([field]) => field);
}

/**
 * zod's issues on an entry's fields as problems a person can act on, beside the field: missing,
 * too long, out of range, not a date, not a link, not one of the choices.
 */
export function journalFieldProblems(kind: JournalKind, fields: unknown): { field: string; code: string; params?: Record<string, string | number> }[] {
  const parsed = journalFieldSchemas[kind].safeParse(fields);
  if (parsed.success) return [];
  const problems: { field: string; code: string; params?: Record<string, string | number> }[] = [];
  const given = (fields ?? {}) as Record<string, unknown>;
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: key, code: 'journal.problem.unknown-field' });
      continue;
    }
    const field = String(issue.path[0] ?? 'general');
    if (problems.some((p) => p.field === field)) continue;
    const missing = given[field] === undefined || given[field] === null;
    let code = 'journal.problem.invalid';
    if (issue.code === 'custom' && issue.params?.code === TEXT_CHARACTERS_PROBLEM) code = 'journal.problem.text-characters';
    else if (issue.message === 'a link or a text') code = 'journal.problem.link-or-text';
    else if (missing || (issue.code === 'too_small' && (issue as { origin?: string }).origin !== 'number')) code = 'journal.problem.required';
    else if (issue.code === 'too_big' && (issue as { origin?: string }).origin === 'string') code = 'journal.problem.too-long';
    else if (issue.code === 'too_big' || issue.code === 'too_small') code = 'journal.problem.out-of-range';
    else if (issue.code === 'invalid_value') code = 'journal.problem.unknown-choice';
    else if (issue.message === 'not a link') code = 'journal.problem.not-a-link';
    else if (field === 'date') code = 'journal.problem.not-a-date';
    else if (issue.message === 'each municipality once') code = 'journal.problem.repeated';
    const params: Record<string, string | number> = {};
    if (code !== 'journal.problem.too-long') {
      problems.push({ field, code });
      continue;
    }
    if (issue.code === 'too_big' && typeof (issue as { maximum?: unknown }).maximum === 'number') params.max = Number((issue as { maximum: number }).maximum);
    if (issue.code === 'too_small' && typeof (issue as { minimum?: unknown }).minimum === 'number') params.min = Number((issue as { minimum: number }).minimum);
    problems.push({ field, code, params });
  }
  return problems;
}

/** The documents an entry may carry, by role, and what each takes. */
export const journalDocumentRoles = ['minutes', 'attendance-sheet', 'materials', 'photos'] as const;
export type JournalDocumentRole = (typeof journalDocumentRoles)[number];

export const journalDocumentRules: Record<JournalDocumentRole, { fileTypes: FileTypeKey[]; maxBytes: number }> = {
  minutes: { fileTypes: ['pdf'], maxBytes: 10 * MIB },
  'attendance-sheet': { fileTypes: ['pdf', 'jpeg', 'png'], maxBytes: 10 * MIB },
  materials: { fileTypes: ['pdf', 'docx', 'xlsx', 'jpeg', 'png'], maxBytes: 20 * MIB },
  photos: { fileTypes: ['jpeg', 'png'], maxBytes: 15 * MIB },
};

export const journalKindDocuments: Record<JournalKind, readonly JournalDocumentRole[]> = {
  announcement: ['materials'],
  training: ['materials'],
  'preliminary-meeting': ['minutes', 'attendance-sheet'],
  'final-meeting': ['minutes', 'attendance-sheet'],
  consultation: [],
  'opening-ceremony': ['photos'],
};

/** A journal's `attach-document` event: which stored file, by its content hash, in which role. */
export const journalDocumentSchema = z.strictObject({
  role: z.enum(journalDocumentRoles),
  name: documentNameSchema,
  size: z.number().int().min(1).max(50 * MIB),
  mediaType: z.enum(mediaTypes as [MediaType, ...MediaType[]]),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type JournalDocument = z.infer<typeof journalDocumentSchema> & { attachedAt: string };

/** The municipality an entry is about, when it is about one (a training is about several). */
export function entryMunicipality(kind: JournalKind, fields: Record<string, unknown>, applicationMunicipality: number | null = null): number | null {
  if (kind === 'opening-ceremony') return applicationMunicipality;
  return typeof fields.municipalityId === 'number' ? fields.municipalityId : null;
}

/** Every municipality an entry covers: the training's attendees, the meeting's, the consultation's. */
export function entryMunicipalities(kind: JournalKind, fields: Record<string, unknown>, applicationMunicipality: number | null = null): number[] {
  if (kind === 'training') return Array.isArray(fields.municipalityIds) ? (fields.municipalityIds as number[]) : [];
  const one = entryMunicipality(kind, fields, applicationMunicipality);
  return one === null ? [] : [one];
}

/** How many people an entry counts: participants or attendance; none for announcements and consultations. */
export function entryParticipants(kind: JournalKind, fields: Record<string, unknown>): number {
  const value = kind === 'training' || kind === 'opening-ceremony' ? fields.participants : kind === 'preliminary-meeting' || kind === 'final-meeting' ? fields.attendance : 0;
  return typeof value === 'number' ? value : 0;
}

/** The entry in a line: its title, topic, settlement or project. */
export function entrySummary(kind: JournalKind, fields: Record<string, unknown>): string {
  const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : '');
  switch (kind) {
    case 'announcement':
      return text('title');
    case 'training':
    case 'consultation':
      return text('topic');
    case 'preliminary-meeting':
      return text('settlement');
    case 'final-meeting':
      return `${text('settlement')}: ${text('project')}`.slice(0, 300);
    default:
      return '';
  }
}

/**
 * Who sees an entry: the staff every one; an applicant the programme-wide ones (announcements,
 * trainings their municipality attended) and those about their own municipality.
 */
export function journalVisibleTo(actor: Pick<Actor, 'role' | 'municipalityId'>, entry: { kind: string; municipalities: readonly number[] }): boolean {
  if (actor.role !== 'applicant') return true;
  if (entry.kind === 'announcement') return true;
  return actor.municipalityId !== null && entry.municipalities.includes(actor.municipalityId);
}
