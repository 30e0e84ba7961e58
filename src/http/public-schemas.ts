import { z } from 'zod';
import { publicStatuses } from '../read/public.ts';

/**
 * The public JSON (issue 15), field by field: every object strict, so that these schemas are the
 * list of what the portal may publish. The tests parse every public answer with them, and a field
 * the projection starts to carry without being listed here fails them.
 */
const kopecks = z.number().int().meta({ description: 'kopecks' });
const amounts = z.strictObject({ subsidy: kopecks, localBudget: kopecks, residents: kopecks, business: kopecks });
const status = z.enum(publicStatuses).meta({ description: 'the public status: under-review, admitted, not-admitted, winner, not-winner, being-built, completed, withdrawn, terminated' });
const day = z.string().meta({ description: 'YYYY-MM-DD' });
const iso = z.string().meta({ description: 'UTC ISO 8601' });

export const publicProgrammeSchema = z
  .strictObject({
    id: z.number().int(),
    title: z.string(),
    year: z.number().int(),
    region: z.string(),
    timeZone: z.string(),
    fundKopecks: kopecks,
    capKopecks: kopecks,
    minLocalShareBp: z.number().int(),
    minResidentsShareBp: z.number().int(),
  })
  .meta({ id: 'PublicProgramme' });

const programmeRef = z.strictObject({ id: z.number().int(), title: z.string(), year: z.number().int(), timeZone: z.string() });

const leverage = z.strictObject({
  winners: z.number().int(),
  subsidyKopecks: kopecks,
  coFinancingKopecks: kopecks,
  totalKopecks: kopecks,
  perRoubleCenti: z.number().int().nullable().meta({ description: 'co-financing per rouble of subsidy, in hundredths' }),
});

const application = z
  .strictObject({
    id: z.number().int(),
    registrationNo: z.string().nullable(),
    title: z.string(),
    municipality: z.string(),
    settlement: z.string().nullable(),
    projectType: z.string().nullable(),
    costs: amounts,
    totalKopecks: kopecks,
    awardedKopecks: kopecks.nullable(),
    submittedAt: iso.nullable(),
    status,
  })
  .meta({ id: 'PublicApplication' });

export const publicIndexResponse = z.strictObject({ currentId: z.number().int().nullable(), programmes: z.array(publicProgrammeSchema) });

export const publicProgrammeResponse = z.strictObject({
  programme: publicProgrammeSchema,
  announcements: z.array(z.strictObject({ heldOn: day, title: z.string(), channel: z.string().nullable(), text: z.string().nullable(), link: z.string().nullable() })),
  rules: z.strictObject({
    fundKopecks: kopecks,
    capKopecks: kopecks,
    minLocalShareBp: z.number().int(),
    minResidentsShareBp: z.number().int(),
    criteria: z.array(z.strictObject({ key: z.string(), weight: z.number().int(), fullAtBp: z.number().int().nullable() })),
    documents: z.array(z.strictObject({ projectType: z.string(), kind: z.string(), required: z.boolean() })),
  }),
  stages: z.array(
    z.strictObject({ no: z.number().int(), key: z.string(), state: z.string(), plannedStart: day.nullable(), plannedEnd: day.nullable(), startedAt: iso.nullable(), completedAt: iso.nullable() }),
  ),
  applications: z.number().int().meta({ description: 'how many applications were submitted' }),
  results: z.strictObject({ decidedAt: iso, allocatedKopecks: kopecks, fundKopecks: kopecks, ...leverage.shape }).nullable(),
  archive: z.array(z.strictObject({ id: z.number().int(), title: z.string(), year: z.number().int() })),
});

export const publicApplicationsResponse = z.strictObject({
  programme: programmeRef,
  applications: z.array(application),
  totals: z.strictObject({ subsidy: kopecks, localBudget: kopecks, residents: kopecks, business: kopecks, total: kopecks }),
});

export const publicResultsResponse = z.strictObject({
  programme: programmeRef,
  decision: z
    .strictObject({
      decidedAt: iso,
      recordHash: z.string(),
      ledgerHead: z.string().meta({ description: 'the ledger head the decision was made on' }),
      ledgerEvents: z.number().int(),
      membersPresent: z.number().int(),
      fundKopecks: kopecks,
      allocatedKopecks: kopecks,
      fundLeftKopecks: kopecks,
      heldOn: day.nullable(),
      place: z.string().nullable(),
    })
    .nullable(),
  ranking: z.array(
    z.strictObject({
      rank: z.number().int(),
      applicationId: z.number().int(),
      registrationNo: z.string().nullable(),
      title: z.string(),
      municipality: z.string(),
      settlement: z.string().nullable(),
      totalCenti: z.number().int(),
      requestedKopecks: kopecks,
      allocatedKopecks: kopecks,
      outcome: z.string(),
      status: status.nullable(),
    }),
  ),
  leverage: leverage.nullable(),
});

export const publicProjectResponse = z.strictObject({
  programme: programmeRef,
  project: z.strictObject({
    ...application.shape,
    programmeId: z.number().int(),
    problem: z.string().nullable(),
    description: z.string().nullable(),
    durationMonths: z.number().int().nullable(),
    progressPercent: z.number().int(),
    agreement: z.strictObject({ signedOn: day.nullable(), amounts: amounts.nullable() }).nullable(),
    received: amounts,
    contract: z.strictObject({ signedOn: day.nullable(), priceKopecks: kopecks }).nullable(),
    spent: amounts.nullable(),
    milestones: z.array(z.strictObject({ kind: z.string(), on: day })),
    photos: z.array(z.strictObject({ seq: z.number().int(), sha256: z.string(), mediaType: z.string(), takenDuring: z.string(), href: z.string() })),
    visits: z.array(z.strictObject({ visitedOn: day, verdict: z.enum(['ok', 'issues']), resolved: z.boolean() })),
    documents: z.array(z.strictObject({ kind: z.string(), sha256: z.string(), mediaType: z.string(), href: z.string() })).meta({ description: 'the documents of the kinds the programme publishes, accepted by the reviewer' }),
  }),
});

export const programmeParams = z.object({ programmeId: z.string().regex(/^[1-9]\d{0,14}$/).transform(Number) });
export const projectParams = z.object({ programmeId: z.string().regex(/^[1-9]\d{0,14}$/).transform(Number), id: z.string().regex(/^[1-9]\d{0,14}$/).transform(Number) });
