import type { FastifyInstance } from 'fastify';
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
import { expectedVersionOf, idParam, objectBody } from './params.ts';

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

/** The programme journal in the JSON API (DESIGN §6 turn 2, issue 14). */
export async function journalApi(app: FastifyInstance) {
  const programmeId = (params: unknown) => {
    const id = idParam(params);
    if (!findProgramme(app.db, id)) throw new NotFoundError();
    return id;
  };

  app.get('/api/programmes/:id/journal', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const id = programmeId(request.params);
    return { programmeId: id, entries: listJournal(app.db, actor, id, journalFilterOf(request.query), 1000).map((row) => entryJson(row)) };
  });

  /** `{kind, supersedes?, ...fields}` (or the fields under `fields`) → 201 with the entry. */
  app.post('/api/programmes/:id/journal', { config: { access: access.recordJournal } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = programmeId(request.params);
    const body = objectBody(request.body);
    const { kind, supersedes, fields: nested, ...flat } = body;
    if (supersedes !== undefined && supersedes !== null && (typeof supersedes !== 'number' || !Number.isInteger(supersedes))) {
      throw new ValidationError('supersedes is an entry number', [{ field: 'supersedes', code: 'journal.problem.invalid' }]);
    }
    const fields = nested !== undefined ? nested : flat;
    const recorded = recordJournalEntry(app.engine, app.documentStore, actor, id, { kind, fields, supersedes: (supersedes as number | undefined) ?? null });
    const entry = loadJournalEntry(app.engine, actor, recorded.id);
    return reply.code(201).header('ETag', `"${entry.row.version}"`).send(entryJson(entry.row, entry.context));
  });

  app.get('/api/programmes/:id/journal/:entryId', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const entry = loadJournalEntry(app.engine, actor, idParam(request.params, 'entryId'), programmeId(request.params));
    const history = loadStreamEvents(app.db, entry.stream.id).map((e) => ({ seq: e.seq, type: e.type, payload: JSON.parse(e.payload) as unknown, actor: JSON.parse(e.actor) as unknown, at: e.at, from: e.fromState, to: e.toState, prevHash: e.prevHash, hash: e.hash }));
    return { ...entryJson(entry.row, entry.context), history };
  });

  /**
   * `{type, expectedVersion, …payload}`: an entry's event. `link-application` is the one the API
   * sends; documents come by upload and supersedes by a correction, and are refused here saying so.
   */
  app.post('/api/programmes/:id/journal/:entryId/events', { config: { access: access.journalEvents } }, async (request, reply) => {
    const actor = requireActor(request);
    const entryId = idParam(request.params, 'entryId');
    const entry = loadJournalEntry(app.engine, actor, entryId, programmeId(request.params));
    const body = objectBody(request.body);
    const { type, expectedVersion: _ignored, ...payload } = body;
    if (typeof type !== 'string' || type.length > 64) throw new ValidationError('type is required', [{ field: 'type', code: 'required' }]);
    const version = expectedVersionOf(body, request.headers['if-match']);
    const applied = type === 'link-application' ? linkJournalApplication(app.engine, actor, entryId, payload.applicationId, version) : app.engine.apply(entry.stream.id, { type, payload }, version, actor);
    return reply.header('ETag', `"${applied.version}"`).send({ id: entryId, state: applied.state, version: applied.version });
  });

  /** Multipart: `role`, `file`. */
  app.post('/api/programmes/:id/journal/:entryId/documents', { config: { access: access.journalEvents } }, async (request, reply) => {
    const actor = requireActor(request);
    const entryId = idParam(request.params, 'entryId');
    loadJournalEntry(app.engine, actor, entryId, programmeId(request.params));
    const form = (await receiveJournalForm(app, request, reply))!;
    const [file, ...extra] = form.files;
    extra.forEach((f) => app.documentStore.discard(f.received));
    if (!file) throw new ValidationError('no file was sent', [{ field: 'file', code: 'document-no-file' }]);
    const role = bodyText(form.body, 'role') ?? file.role;
    const applied = attachJournalDocument(app.engine, app.documentStore, actor, entryId, { ...file, role });
    return reply.code(201).header('ETag', `"${applied.version}"`).send({ id: entryId, state: applied.state, version: applied.version, document: JSON.parse(applied.event.payload) as unknown });
  });

  app.get('/api/programmes/:id/coverage', { config: { access: access.staff } }, async (request) => {
    requireActor(request);
    return journalCoverage(app.db, programmeId(request.params));
  });

  /** `{entryId, sha256, expectedVersion?}`: the applicant takes the final meeting's minutes as the application's document. */
  app.post('/api/applications/:id/documents/from-journal', { config: { access: access.attachDocument } }, async (request, reply) => {
    const actor = requireActor(request);
    const id = idParam(request.params);
    findApplication(app.db, actor, id);
    const body = objectBody(request.body);
    if (typeof body.entryId !== 'number' || typeof body.sha256 !== 'string') throw new ValidationError('entryId and sha256 are required', [{ field: 'entryId', code: 'required' }]);
    const expected = body.expectedVersion === undefined && request.headers['if-match'] === undefined ? undefined : expectedVersionOf(body, request.headers['if-match']);
    const applied = await takeJournalDocument(app.engine, app.documentStore, actor, id, body.entryId, body.sha256, expected);
    return reply.code(201).header('ETag', `"${applied.version}"`).send({ id, state: applied.state, version: applied.version, document: JSON.parse(applied.event.payload) as unknown });
  });
}
