import type { Db } from '../../db/client.ts';
import type { StreamKind } from '../../engine/engine.ts';
import { remarksStandOpen, type ApplicationContext } from '../../../machines/application.ts';
import { conversationMachineId, type RemarkFact } from '../../../machines/conversation.ts';
import { applicationReads, applicationStreamId, maySeeMunicipality } from '../application/reads.ts';
import { applicationOfConversation, latestReturnSeq, remarkId } from './reads.ts';

/**
 * The conversation kind of stream (issue 12): one per application, seen by whoever may see the
 * application (an applicant of another municipality gets "not found"); the facts of a message are
 * the remarks it may answer, those of the return the application is back for.
 */
export function conversationKind(db: Db): StreamKind {
  const reads = applicationReads(db);
  const snapshotOf = db.$client.prepare<[string], { state: string; snapshot: string }>('SELECT state, snapshot FROM streams WHERE id = ?');
  return {
    machineId: conversationMachineId,
    maySee(stream, actor) {
      const row = reads.byId(applicationOfConversation(stream.id));
      return row !== undefined && maySeeMunicipality(actor, row.municipalityId);
    },
    facts(stream, type) {
      if (type !== 'post-message') return {};
      const applicationStream = applicationStreamId(applicationOfConversation(stream.id));
      const application = snapshotOf.get(applicationStream);
      if (!application || !remarksStandOpen(application.state)) return {};
      const returnSeq = latestReturnSeq(db, applicationStream);
      if (returnSeq === null) return {};
      const { remarks } = (JSON.parse(application.snapshot) as { context: ApplicationContext }).context;
      const open: RemarkFact[] = remarks.map((remark, index) => ({ id: remarkId(returnSeq, index), field: remark.field, text: remark.text }));
      return open.length > 0 ? { remarks: open } : {};
    },
  };
}
