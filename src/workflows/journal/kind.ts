import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import { entryMunicipalities, entryMunicipality, entryParticipants, entrySummary, journalVisibleTo } from '../../domain/journal.ts';
import type { EventRow, StreamKind, StreamRow } from '../../engine/engine.ts';
import { journalMachineId, type JournalContext } from '../../../machines/journal.ts';
import { journalEntryIdOf, journalReads } from './reads.ts';

/**
 * The journal kind of stream (issue 14): who may see an entry, the facts `link-application`
 * reads (the applications of the entry's municipality), and the list projection kept with every
 * event — one row per entry and the municipalities it covers — which lists, filters, the
 * coverage and the stages' exit conditions read.
 */
export function journalKind(db: Db): StreamKind {
  const reads = journalReads(db);
  const sqlite = db.$client;
  const applicationMunicipality = sqlite.prepare<[number], { municipalityId: number }>('SELECT municipality_id AS municipalityId FROM applications WHERE id = ?');
  const upsert = sqlite.prepare(
    `INSERT INTO journal_entries (id, stream_id, programme_id, kind, state, version, municipality_id, application_id, held_on, participants, summary, documents,
       supersedes, superseded_by, recorded_at, recorded_by, updated_at)
     VALUES (@id, @streamId, @programmeId, @kind, @state, @version, @municipalityId, @applicationId, @heldOn, @participants, @summary, @documents,
       @supersedes, @supersededBy, @recordedAt, @recordedBy, @updatedAt)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, version = excluded.version, municipality_id = excluded.municipality_id,
       application_id = excluded.application_id, documents = excluded.documents, superseded_by = excluded.superseded_by, updated_at = excluded.updated_at`,
  );
  const cover = sqlite.prepare('INSERT OR IGNORE INTO journal_entry_municipalities (entry_id, municipality_id) VALUES (?, ?)');
  return {
    machineId: journalMachineId,
    maySee(stream, actor) {
      const id = journalEntryIdOf(stream.id);
      const row = id === null ? undefined : reads.ofStream(stream.id);
      return row !== undefined && journalVisibleTo(actor, { kind: row.kind, municipalities: reads.municipalitiesOf(row.id) });
    },
    facts(stream, type) {
      if (type !== 'link-application') return {};
      const row = reads.ofStream(stream.id);
      return { applications: row && row.municipalityId !== null ? reads.applicationsOfMunicipality(row.programmeId, row.municipalityId) : [] };
    },
    project(stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) {
      const context = snapshot.context as JournalContext;
      const id = journalEntryIdOf(stream.id)!;
      // An opening ceremony is about its application's municipality.
      const ofApplication = context.applicationId !== null ? (applicationMunicipality.get(context.applicationId)?.municipalityId ?? null) : null;
      upsert.run({
        id,
        streamId: stream.id,
        programmeId: context.programmeId,
        kind: context.kind,
        state: stream.state,
        version: stream.version,
        municipalityId: entryMunicipality(context.kind, context.fields, ofApplication),
        applicationId: context.applicationId,
        heldOn: typeof context.fields.date === 'string' ? context.fields.date : context.recordedAt.slice(0, 10),
        participants: entryParticipants(context.kind, context.fields),
        summary: entrySummary(context.kind, context.fields),
        documents: context.documents.length,
        supersedes: context.supersedes,
        supersededBy: context.supersededBy,
        recordedAt: context.recordedAt,
        recordedBy: context.recordedBy.name,
        updatedAt: stream.updatedAt,
      });
      if (event.type === 'create') for (const municipalityId of entryMunicipalities(context.kind, context.fields, ofApplication)) cover.run(id, municipalityId);
    },
  };
}
