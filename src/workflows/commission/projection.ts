import type { AnyMachineSnapshot } from 'xstate';
import type { Db } from '../../db/client.ts';
import { significanceCenti } from '../../domain/criteria.ts';
import type { Actor } from '../../domain/roles.ts';
import type { EventRow, StreamRow } from '../../engine/engine.ts';
import type { ApplicationContext } from '../../../machines/application.ts';

/**
 * Keeps `application_scoring` (what the form-derived criteria read) and `scores` (each member's
 * current score) in step with an application; the application kind calls it in its transaction,
 * so that the ranking never parses a snapshot per row (DESIGN §4.8).
 */
export function scoringProjection(db: Db) {
  const sqlite = db.$client;
  const insertInput = sqlite.prepare(
    `INSERT INTO application_scoring (application_id, population, beneficiaries, meeting_attendance, subsidy_kopecks, local_budget_kopecks, residents_kopecks, business_kopecks, non_monetary_kopecks)
     VALUES (@applicationId, @population, @beneficiaries, @meetingAttendance, @subsidyKopecks, @localBudgetKopecks, @residentsKopecks, @businessKopecks, @nonMonetaryKopecks)
     ON CONFLICT DO NOTHING`,
  );
  const updateInput = sqlite.prepare(
    `UPDATE application_scoring SET population = @population, beneficiaries = @beneficiaries, meeting_attendance = @meetingAttendance, subsidy_kopecks = @subsidyKopecks,
       local_budget_kopecks = @localBudgetKopecks, residents_kopecks = @residentsKopecks, business_kopecks = @businessKopecks, non_monetary_kopecks = @nonMonetaryKopecks
     WHERE application_id = @applicationId`,
  );
  const applicationOf = sqlite.prepare<[string], { id: number }>('SELECT id FROM applications WHERE stream_id = ?');
  const upsertScore = sqlite.prepare(
    `INSERT INTO scores (application_id, member_id, significance_centi, comment, at) VALUES (@applicationId, @memberId, @significanceCenti, @comment, @at)
     ON CONFLICT (application_id, member_id) DO UPDATE SET significance_centi = excluded.significance_centi, comment = excluded.comment, at = excluded.at`,
  );

  return (stream: StreamRow, snapshot: AnyMachineSnapshot, event: EventRow) => {
    const applicationId = applicationOf.get(stream.id)?.id;
    if (applicationId === undefined) return;
    const form = (snapshot.context as ApplicationContext).form;
    const input = {
      applicationId,
      population: form.population ?? 0,
      beneficiaries: form.beneficiaries ?? 0,
      meetingAttendance: form.meetingAttendance ?? 0,
      subsidyKopecks: form.costs?.subsidy ?? 0,
      localBudgetKopecks: form.costs?.localBudget ?? 0,
      residentsKopecks: form.costs?.residents ?? 0,
      businessKopecks: form.costs?.business ?? 0,
      nonMonetaryKopecks: (form.nonMonetary?.labour ?? 0) + (form.nonMonetary?.materials ?? 0),
    };
    const inserted = insertInput.run(input).changes === 1;
    if (!inserted && event.type === 'update') updateInput.run(input);
    if (event.type === 'score') {
      const memberId = (JSON.parse(event.actor) as Actor).id;
      const score = (snapshot.context as ApplicationContext).scores[String(memberId)];
      if (score) upsertScore.run({ applicationId, memberId, significanceCenti: significanceCenti(score.significance), comment: score.comment ?? null, at: score.at });
    }
  };
}
