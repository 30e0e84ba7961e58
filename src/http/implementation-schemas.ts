import { z } from 'zod';
import { evidenceKinds, milestoneKinds, savingsRules } from '../domain/implementation.ts';
import { attachDocumentSchema } from '../domain/documents.ts';
import { appliedResponse } from './api-schemas.ts';

/** The API's shapes after the award (issue 11): money in kopecks, days as YYYY-MM-DD, times in UTC. */
const kopecks = z.int().meta({ description: 'money in kopecks' });
const day = z.string().meta({ description: 'a calendar day, YYYY-MM-DD', format: 'date' });
const timestamp = z.string().meta({ description: 'UTC, ISO 8601', format: 'date-time' });
const seq = z.int().meta({ description: 'the event’s place in the application’s stream (0 for a record carried over from version 2)' });
const amounts = z.object({ subsidy: kopecks, localBudget: kopecks, residents: kopecks, business: kopecks }).meta({ id: 'AmountsBySource' });

const agreement = z.object({ agreementNo: z.string(), signedOn: day.nullable(), amounts: amounts.nullable(), at: timestamp.nullable() });
const contribution = z.object({
  seq,
  source: z.enum(['subsidy', 'localBudget', 'residents', 'business']),
  amountKopecks: kopecks,
  receivedOn: day,
  payer: z.string().nullable(),
  reference: z.string().nullable(),
  at: timestamp,
  by: z.string().meta({ description: 'the role that recorded it' }),
  cancelled: z.object({ seq, reason: z.string(), at: timestamp }).nullable(),
});
const contract = z.object({
  contractNo: z.string().nullable(),
  signedOn: day.nullable(),
  contractor: z.string(),
  contractorInn: z.string().nullable(),
  priceKopecks: kopecks,
  noticeNo: z.string().nullable(),
  savingsRule: z.enum(savingsRules).nullable(),
  at: timestamp.nullable(),
});
const evidence = z.object({
  seq,
  kind: z.enum(evidenceKinds),
  caption: z.string().nullable(),
  name: z.string(),
  size: z.int(),
  mediaType: z.string(),
  sha256: z.string(),
  at: timestamp,
  state: z.enum(['works', 'monitoring']),
  href: z.string().meta({ description: 'where the file is downloaded' }),
});

export const implementationResponse = z
  .object({
    id: z.int(),
    state: z.string(),
    version: z.int(),
    agreement: agreement.nullable(),
    agreedTotal: kopecks.nullable(),
    contributions: z.array(contribution),
    received: z.object({ bySource: amounts, total: kopecks }),
    contract: contract.nullable(),
    savings: z.object({ total: kopecks, bySource: amounts, rule: z.enum(savingsRules).nullable() }).nullable(),
    milestones: z.array(z.object({ seq, kind: z.enum(milestoneKinds), on: day, note: z.string().nullable(), at: timestamp })),
    progressPercent: z.int().min(0).max(100),
    progress: z.array(z.object({ seq, percent: z.int(), note: z.string().nullable(), at: timestamp })),
    photos: z.array(evidence),
    documents: z.object({ agreementScan: evidence.nullable(), acceptanceAct: evidence.nullable() }),
    visits: z.array(
      z.object({
        seq,
        visitedOn: day,
        inspector: z.string().nullable(),
        verdict: z.enum(['ok', 'issues']),
        finding: z.string(),
        at: timestamp,
        resolution: z.object({ seq, note: z.string(), at: timestamp }).nullable(),
      }),
    ),
    spending: z.object({ seq, actual: amounts, at: timestamp }).nullable(),
    missing: z.array(z.string()).meta({ description: 'what blocks the next step, as codes (`contribution-short:residents`, `acceptance-act-missing`, …); empty when nothing does' }),
  })
  .meta({ id: 'Implementation' });

export const evidenceUploadBody = z.object({
  kind: z.enum(evidenceKinds),
  caption: z.string().max(300).optional(),
  expectedVersion: z.string().regex(/^\d{1,9}$/).optional().meta({ description: 'or `If-Match: "N"`' }),
  file: z.string().meta({ format: 'binary', contentMediaType: 'application/octet-stream', description: 'a scan (PDF, JPEG, PNG) or a photo (JPEG, PNG)' }),
});

export const evidenceUploadResponse = appliedResponse
  .safeExtend({ evidence: attachDocumentSchema.omit({ kind: true }).extend({ kind: z.enum(evidenceKinds), caption: z.string().optional() }) })
  .meta({ id: 'EvidenceUploaded' });
