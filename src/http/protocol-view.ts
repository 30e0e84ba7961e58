import { formatPoints } from '../domain/criteria.ts';
import type { Translate } from '../i18n/index.ts';
import type { CommissionMeeting } from '../workflows/commission/meeting.ts';
import type { DecisionView } from '../workflows/commission/reads.ts';

/** A title inside «…»: its own quotes become „…“, as Russian typography nests them (never «…«…»»). */
export function quoted(text: string): string {
  return `«${text.replace(/«/g, '„').replace(/»/g, '“')}»`;
}

/**
 * What the printed protocol adds for the secretary (issue 16): the meeting's day, place, chair
 * and secretary; the members present against the whole membership; and the annex of each member's
 * scores, from the decision's own record, with a line to sign.
 */
export function protocolExtras(t: Translate, lang: 'ru' | 'en', decision: DecisionView, meeting: CommissionMeeting | null) {
  const presentIds = new Set(decision.membersPresent.map((m) => m.id));
  const membership = meeting?.membership ?? decision.membersPresent;
  const absent = membership.filter((m) => !presentIds.has(m.id));
  const rows = decision.record.rows;
  const annex = decision.membersPresent.map((member) => ({
    name: member.name,
    scores: rows
      .map((row) => ({ row, score: row.scores.find((s) => s.memberId === member.id) }))
      .filter((entry) => entry.score !== undefined)
      .map(({ row, score }) => ({ rank: row.rank, applicationId: row.applicationId, title: quoted(row.title), significance: formatPoints(score!.significanceCenti, lang), comment: score!.comment })),
  }));
  return {
    meeting: {
      heldOn: meeting?.heldOn ?? null,
      place: meeting?.place ?? null,
      chair: meeting?.chairName ?? null,
      secretary: meeting?.secretaryName ?? null,
    },
    presentLine: t('protocol.presentOf', { present: decision.membersPresent.length, count: membership.length }),
    absent,
    annex,
    quoted,
  };
}
