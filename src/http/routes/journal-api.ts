import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { zodProblems } from '../../domain/problems.ts';
import { journalDocumentRoles, journalKinds } from '../../domain/journal.ts';
import { bodyErrors, errors, eventEnvelope, expectedVersionSchema, idParams, json, pathErrors, uploadResponse } from '../api-schemas.ts';
import { pathId } from '../api-schemas.ts';
import { NotFoundError, ValidationError } from '../../engine/errors.ts';
import { loadStreamEvents } from '../../engine/replay.ts';
import { journalCoverage } from '../../workflows/journal/coverage.ts';
import { attachJournalDocument, linkJournalApplication, recordJournalEntry, takeJournalDocument } from '../../workflows/journal/commands.ts';
import { listJournal, loadJournalEntry, type JournalRow } from '../../workflows/journal/reads.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { findApplication } from '../../workflows/application/reads.ts';
import type { JournalContext } from '../../../machines/journal.ts';
import { access } from '../authorization.ts';
import { requireActor } from '../plugins/auth.ts';
import { bodyText } from '../forms.ts';
import { journalFilterOf, receiveJournalForm } from './journal-pages.ts';
import { expectedVersionOf } from './params.ts';

/** An entry in the API's shape: its list row's figures, its fields and documents as recorded. */
function entryJson(row: JournalRow, context?: JournalContext) {
  return {
    id: row.id,
    programmeId: row.programmeId,
    kind: row.kind,
    state: row.state,
    version: row.version,
    date: row.heldOn,
    municipalityId: row.municipalityId,
    municipalities: row.municipalities,
    applicationId: row.applicationId,
    participants: row.participants,
    summary: row.summary,
    documents: context ? context.documents : row.documents,
    supersedes: row.supersedes,
    supersededBy: row.supersededBy,
    recordedAt: row.recordedAt,
    recordedBy: row.recordedBy,
    ...(context ? { fields: context.fields } : {}),
  };
}

const entryParams = z.object({ id: pathId, entryId: pathId.meta({ description: 'the journal entry number' }) });
const listQuery = z.object({
  kind: z.string().max(64).optional().meta({ description: `one of ${journalKinds.join(', ')}` }),
  stage: z.string().max(64).optional().meta({ description: 'a stage key: the kinds it owns' }),
  municipalityId: z.string().max(12).optional(),
  from: z.string().max(10).optional().meta({ description: 'YYYY-MM-DD' }),
  to: z.string().max(10).optional().meta({ description: 'YYYY-MM-DD' }),
});
const entrySchema = z
  .looseObject({
    id: z.int(),
    programmeId: z.int(),
    kind: z.enum(journalKinds),
    state: z.enum(['recorded', 'superseded']),
    version: z.int(),
    date: z.string(),
    municipalityId: z.int().nullable(),
    municipalities: z.array(z.int()),
    applicationId: z.int().nullable(),
    participants: z.int(),
    summary: z.string(),
    supersedes: z.int().nullable(),
    supersededBy: z.int().nullable(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .meta({ id: 'JournalEntry' });
const entryBody = z
  .looseObject({
    kind: z.enum(journalKinds),
    supersedes: z.int().min(1).nullable().optional().meta({ description: 'the entry this one corrects' }),
    fields: z.record(z.string(), z.unknown()).optional().meta({ description: 'the fields of the kind; or give them beside `kind`' }),
  })
  .meta({ id: 'NewJournalEntry', description: 'The kind and its fields (announcement: channel, date, title, link|text; training: date, topic, format, place?, municipalityIds, participants; meetings: municipalityId, settlement, date, attendance, problems|project, pledgeKopecks?, applicationId? (final); consultation: municipalityId, applicationId?, date, channel, topic, question, answer, consultant; opening-ceremony: applicationId, date, participants).' });
const journalUploadBody = z.object({
  role: z.enum(journalDocumentRoles),
  expectedVersion: z.string().regex(/^\d{1,9}$/).optional(),
  file: z.string().meta({ format: 'binary', contentMediaType: 'application/octet-stream', description: 'PDF, JPEG, PNG, XLSX or DOCX, as the role takes' }),
});
const takeBody = z.object({ entryId: z.int().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), expectedVersion: expectedVersionSchema.optional() }).meta({ id: 'JournalDocumentTaken' });
const entryApplied = z.object({ id: z.int(), state: z.string(), version: z.int() }).meta({ id: 'JournalApplied' });
const coverageSchema = z.looseObject({ programmeId: z.int(), rows: z.array(z.looseObject({ municipalityId: z.int(), name: z.string(), applied: z.boolean() })), totals: z.looseObject({}) }).meta({ id: 'JournalCoverage' });
const tags = ['journal'];

/** The programme journal in the JSON API (DESIGN §6 turn 2, issue 14). */
export async function journalApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const programmeId = (params: { id: number }) => {
    if (!findProgramme(app.db, params.id)) throw new NotFoundError();
    return params.id;
  };

  api.get('/api/programmes/:id/journal', { config: { access: access.signedIn }, schema: { tags, summary: 'The journal of a programme, filtered (an applicant sees the announcements and their own municipality’s entries)', params: idParams, querystring: listQuery, response: { 200: json('the standing entries, newest first', z.object({ programmeId: z.int(), entries: z.array(entrySchema) })), ...errors(401, ...pathErrors, 422) } } }, async (request) => {
    const actor = requireActor(request);
    const id = programmeId(request.params);
    return { programmeId: id, entries: listJournal(app.db, actor, id, journalFilterOf(request.query), 1000).map((row) => entryJson(row)) } as never;
  });

  /** `{kind, supersedes?, ...fields}` (or the fields under `fields`) → 201 with the entry. */
  api.post('/api/programmes/:id/journal', { config: { access: access.recordJournal }, schema: { tags, summary: 'Record an entry (or a correction that supersedes one)', params: idParams, body: entryBody, response: { 201: json('the entry as recorded', entrySchema), ...errors(401, 403, ...pathErrors, ...bodyErrors) } } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = programmeId(request.params);
    const body = request.body as Record<string, unknown>;
    const { kind, supersedes, fields: nested, ...flat } = body;
    if (supersedes !== undefined && supersedes !== null && (typeof supersedes !== 'number' || !Number.isInteger(supersedes))) {
      throw new ValidationError('supersedes is an entry number', [{ field: 'supersedes', code: 'journal.problem.invalid' }]);
    }
    const fields = nested !== undefined ? nested : flat;
    const recorded = await app.engine.write(() => recordJournalEntry(app.engine, app.documentStore, actor, id, { kind, fields, supersedes: (supersedes as number | undefined) ?? null }));
    const entry = loadJournalEntry(app.engine, actor, recorded.id);
    return reply.code(201).header('ETag', `"${entry.row.version}"`).send(entryJson(entry.row, entry.context) as never);
  });

  api.get('/api/programmes/:id/journal/:entryId', { config: { access: access.signedIn }, schema: { tags, summary: 'One entry with its fields, documents and history', params: entryParams, response: { 200: json('the entry', entrySchema.safeExtend({ history: z.array(z.looseObject({ seq: z.int(), type: z.string(), hash: z.string() })) })), ...errors(401, ...pathErrors) } } }, async (request) => {
    const actor = requireActor(request);
    const entry = loadJournalEntry(app.engine, actor, request.params.entryId, programmeId(request.params));
    const history = loadStreamEvents(app.db, entry.stream.id).map((e) => ({ seq: e.seq, type: e.type, payload: JSON.parse(e.payload) as unknown, actor: JSON.parse(e.actor) as unknown, at: e.at, from: e.fromState, to: e.toState, prevHash: e.prevHash, hash: e.hash }));
    return { ...entryJson(entry.row, entry.context), history } as never;
  });

  /**
   * `{type, expectedVersion, …payload}`: an entry's event. `link-application` is the one the API
   * sends; documents come by upload and supersedes by a correction, and are refused here saying so.
   */
  api.post('/api/programmes/:id/journal/:entryId/events', { config: { access: access.journalEvents }, schema: { tags, summary: 'An entry’s event: link a final meeting to its application', params: entryParams, body: eventEnvelope, documentedBody: z.object({ type: z.literal('link-application'), applicationId: z.int().min(1), expectedVersion: expectedVersionSchema.optional() }).meta({ id: 'JournalEvent' }), response: { 200: json('the entry’s new state and version', entryApplied), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) } } }, async (request, reply) => {
    const actor = requireActor(request);
    const entryId = request.params.entryId;
    const entry = loadJournalEntry(app.engine, actor, entryId, programmeId(request.params));
    const body = request.body as Record<string, unknown>;
    const { type, expectedVersion: _ignored, ...payload } = body;
    if (typeof type !== 'string' || type.length > 64) throw new ValidationError('type is required', [{ field: 'type', code: 'required' }]);
    const version = expectedVersionOf(body, request.headers['if-match']);
    const applied = await app.engine.write(() => type === 'link-application' ? linkJournalApplication(app.engine, actor, entryId, payload.applicationId, version) : app.engine.apply(entry.stream.id, { type, payload }, version, actor));
    return reply.header('ETag', `"${applied.version}"`).send({ id: entryId, state: applied.state, version: applied.version });
  });

  /** Multipart: `role`, `file`. */
  api.post('/api/programmes/:id/journal/:entryId/documents', { config: { access: access.journalEvents }, schema: { tags, summary: 'Add a document to an entry (multipart: `role`, then `file`)', params: entryParams, consumes: ['multipart/form-data'], documentedBody: journalUploadBody, response: { 201: json('attached: the entry’s new version and the stored file', entryApplied.safeExtend({ document: z.looseObject({ role: z.string(), sha256: z.string() }) })), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) } } }, async (request, reply) => {
    const actor = requireActor(request);
    const entryId = request.params.entryId;
    loadJournalEntry(app.engine, actor, entryId, programmeId(request.params));
    const form = (await receiveJournalForm(app, request, reply))!;
    const [file, ...extra] = form.files;
    extra.forEach((f) => app.documentStore.discard(f.received));
    if (!file) throw new ValidationError('no file was sent', [{ field: 'file', code: 'document-no-file' }]);
    const role = bodyText(form.body, 'role') ?? file.role;
    const applied = await app.engine.write(() => attachJournalDocument(app.engine, app.documentStore, actor, entryId, { ...file, role }));
    return reply.code(201).header('ETag', `"${applied.version}"`).send({ id: entryId, state: applied.state, version: applied.version, document: JSON.parse(applied.event.payload) as never });
  });

  api.get('/api/programmes/:id/coverage', { config: { access: access.staff }, schema: { tags, summary: 'The coverage: municipalities × kinds of entry, participants, totals (what the analytical report counts)', params: idParams, response: { 200: json('the coverage', coverageSchema), ...errors(401, 403, ...pathErrors) } } }, async (request) => {
    requireActor(request);
    return journalCoverage(app.db, programmeId(request.params)) as never;
  });

  /** `{entryId, sha256, expectedVersion?}`: the applicant takes the final meeting's minutes as the application's document. */
  api.post('/api/applications/:id/documents/from-journal', { config: { access: access.attachDocument }, schema: { tags, summary: 'Take the minutes (or attendance sheet) of the final meeting linked to the application as its own document', params: idParams, body: z.looseObject({}), documentedBody: takeBody, response: { 201: json('attached', uploadResponse), ...errors(401, 403, ...pathErrors, 409, ...bodyErrors) } } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = request.params.id;
    // The application first: a stranger's is not found, whatever the body says; then the body.
    findApplication(app.db, actor, id);
    const parsed = takeBody.safeParse(request.body);
    if (!parsed.success) throw new ValidationError('the body is invalid', zodProblems(parsed.error));
    const body = parsed.data;
    const expected = body.expectedVersion === undefined && request.headers['if-match'] === undefined ? undefined : expectedVersionOf(body, request.headers['if-match']);
    const applied = await takeJournalDocument(app.engine, app.documentStore, actor, id, body.entryId, body.sha256, expected);
    return reply.code(201).header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version, document: JSON.parse(applied.event.payload) as never });
  });
}
