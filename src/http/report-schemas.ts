import { z } from 'zod';

/** `GET /api/programmes/:id/report` (issue 13): the analytical report's figures, money in kopecks. */
const kopecks = z.int().meta({ description: 'money in kopecks' });
const count = z.int().min(0);
const ratio = z.number().nullable();
const sources = z.object({ subsidy: kopecks, localBudget: kopecks, residents: kopecks, business: kopecks, total: kopecks });
const leverage = z.object({ localBudget: z.number(), residents: z.number(), business: z.number(), all: z.number() }).nullable().meta({ description: 'roubles of each source (and of all three) per rouble of subsidy' });
const group = z.object({
  key: z.string(),
  submitted: count,
  awarded: count,
  plannedTotal: kopecks,
  awardedKopecks: kopecks,
  received: kopecks,
  beneficiaries: count,
});

const figures = z
  .object({
    programmeId: z.int(),
    title: z.string(),
    year: z.int(),
    fundKopecks: kopecks,
    funnel: z.object({ created: count, submitted: count, accepted: count, awarded: count, closed: count, terminated: count, rejected: count, notAwarded: count, withdrawn: count }),
    planned: sources.meta({ description: 'the submitted applications’ costs by source' }),
    plannedAwarded: sources.meta({ description: 'the same for the awarded projects' }),
    awardedKopecks: kopecks,
    agreed: sources.meta({ description: 'the signed agreements’ amounts' }),
    received: sources.meta({ description: 'paid in, cancelled payments left out' }),
    spent: sources.meta({ description: 'each project’s latest spending report' }),
    savings: kopecks,
    agreements: count,
    leverage: z.object({ planned: leverage, agreed: leverage }),
    residentsShareBp: z.object({ planned: z.int().nullable(), agreed: z.int().nullable() }).meta({ description: 'the residents’ share of the whole cost, in basis points' }),
    beneficiaries: count,
    meetingParticipants: count,
    beneficiariesPerMillion: ratio,
    participantsPerMillion: ratio,
    byType: z.array(group),
    byMunicipality: z.array(group.extend({ name: z.string(), kind: z.string() })),
    byKind: z.array(group),
  })
  .meta({ id: 'ProgrammeFigures' });

export const reportResponse = z.object({
  current: figures,
  previous: figures.nullable().meta({ description: 'the programme held before it, for comparison' }),
  ledger: z.object({ events: count, head: z.string().regex(/^[0-9a-f]{64}$/) }).meta({ description: 'the log the figures were computed from: verify against this head' }),
  recommendations: z.array(z.object({ text: z.string(), at: z.string(), by: z.string() })).meta({ description: 'every version recorded, the last one current' }),
  closingStage: z.object({ streamId: z.string(), state: z.string(), version: z.int() }).nullable(),
});
