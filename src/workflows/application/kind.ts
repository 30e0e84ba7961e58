import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import { totalCostKopecks } from '../../domain/application.ts';
import { implementationFigures } from '../../domain/implementation.ts';
import type { StreamKind, EventRow, StreamRow } from '../../engine/engine.ts';
import { applicationMachineId, type ApplicationContext } from '../../../machines/application.ts';
import { scoringProjection } from '../commission/projection.ts';
import { documentRequirementReads } from '../documents/requirements.ts';
import { stageReads } from '../stage/reads.ts';
import { applicationReads, maySeeMunicipality } from './reads.ts';
import { assignmentFacts } from '../reviewer/reads.ts';
import { reviewQueueProjection } from './review-queue.ts';
import { registrationNumbers } from './registration.ts';

/** The events after the award whose facts carry their own place in the stream (issue 11). */
const implementationEvents: ReadonlySet<string> = new Set([
  'sign-agreement',
  'record-contribution',
  'cancel-contribution',
  'sign-contract',
  'record-milestone',
  'report-progress',
  'attach-evidence',
  'record-monitoring',
  'resolve-issue',
  'report-spending',
]);

/**
 * The application kind of stream (DESIGN §3): who may see one (its municipality's applicants and
 * the staff), the facts its rules read — the active stages, the programme's rules for `submit`,
 * the documents it requires — and the projections kept with every event: the list row and the
 * commission's scoring input.
 */
export function applicationKind(db: Db): StreamKind {
  const reads = applicationReads(db);
  const stages = stageReads(db);
  const documentRules = documentRequirementReads(db);
  const rulesOf = db.$client.prepare<[string], { capKopecks: number; minLocalShareBp: number; minResidentsShareBp: number }>(
    `SELECT p.cap_kopecks AS capKopecks, p.min_local_share_bp AS minLocalShareBp, p.min_residents_share_bp AS minResidentsShareBp
     FROM programmes p JOIN applications a ON a.programme_id = p.id WHERE a.stream_id = ?`,
  );
  const savingsRuleOf = db.$client.prepare<[string], { savingsRule: string }>(
    'SELECT p.savings_rule AS savingsRule FROM programmes p JOIN applications a ON a.programme_id = p.id WHERE a.stream_id = ?',
  );
  const project = db.$client.prepare(
    `UPDATE applications SET title = @title, project_type = @projectType, settlement = @settlement, search = @search, state = @state, version = @version,
       subsidy_kopecks = @subsidyKopecks, total_kopecks = @totalKopecks, awarded_kopecks = @awardedKopecks, first_submitted_at = @firstSubmittedAt,
       agreed_kopecks = @agreedKopecks, received_kopecks = @receivedKopecks, spent_kopecks = @spentKopecks, progress_percent = @progressPercent,
       updated_at = @updatedAt WHERE stream_id = @streamId`,
  );
  const registration = registrationNumbers(db);
  const projectScoring = scoringProjection(db);
  const projectQueue = reviewQueueProjection(db);

  return {
    machineId: applicationMachineId,
    maySee(stream, actor) {
      const row = reads.ofStream(stream.id);
      return row !== undefined && maySeeMunicipality(actor, row.municipalityId);
    },
    facts(stream, type, payload) {
      const row = reads.ofStream(stream.id);
      const programmeId = row?.programmeId;
      // Who may review it: the conflicts of interest declared with its municipality, the assignee named (issue 16).
      const assignment = assignmentFacts(db, row?.municipalityId, type, payload);
      const activeStages = programmeId === undefined ? [] : stages.activeStageKeys(programmeId);
      // The documents the programme asks for now, stored with the event; none asked, no fact.
      const required = type === 'submit' || type === 'accept' ? documentRules.rulesForStream(stream.id).filter((rule) => rule.required).map((rule) => rule.kind) : [];
      const documents =
        required.length > 0 ? { requiredDocuments: required } : type === 'attach-document' ? { documentRules: documentRules.rulesForStream(stream.id) } : {};
      // After the award (issue 11): the event's own place in the stream, which later events name (a
      // contribution cancelled, an issue resolved); the programme's minimum shares for the agreement;
      // what the programme does with savings, for the contract.
      if (implementationEvents.has(type)) {
        const seq = { seq: stream.version + 1 };
        if (type === 'sign-agreement') {
          const rules = rulesOf.get(stream.id);
          return rules ? { activeStages, rules, ...seq } : { activeStages, ...seq };
        }
        if (type === 'sign-contract') {
          const rule = savingsRuleOf.get(stream.id)?.savingsRule;
          return rule === 'keep' || rule === 'refund' ? { activeStages, savingsRule: rule, ...seq } : { activeStages, ...seq };
        }
        return { activeStages, ...seq };
      }
      if (type !== 'submit') return { activeStages, ...documents, ...assignment };
      const rules = rulesOf.get(stream.id);
      // The number a first submission gets, read in the event's own (immediate) transaction; asked without a payload, none.
      const numbered = payload === undefined ? {} : registration.next(stream.id);
      return rules ? { activeStages, rules, ...documents, ...assignment, ...numbered } : { activeStages, ...documents, ...assignment, ...numbered };
    },
    project(stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) {
      const context = snapshot.context as ApplicationContext;
      const registrationNo = registration.record(stream.id, event);
      project.run({
        streamId: stream.id,
        title: context.form.title ?? '',
        projectType: context.form.projectType ?? null,
        settlement: context.form.settlement ?? null,
        search: `${context.form.title ?? ''} ${context.form.settlement ?? ''} ${registrationNo ?? ''}`.trim().toLocaleLowerCase('ru'),
        state: stream.state,
        version: stream.version,
        subsidyKopecks: context.form.costs?.subsidy ?? 0,
        totalKopecks: totalCostKopecks(context.form.costs),
        awardedKopecks: context.awardedKopecks,
        firstSubmittedAt: context.firstSubmittedAt,
        ...implementationFigures(context),
        updatedAt: stream.updatedAt,
      });
      projectScoring(stream, snapshot, event);
      projectQueue(stream, snapshot, event);
    },
  };
}
