import { z } from 'zod';
import type { Problem } from './problems.ts';
import { text } from './text.ts';
import { documentNameSchema, MAX_DOCUMENT_BYTES, mediaTypes, type MediaType } from './documents.ts';

/**
 * After the award (issue 11, DESIGN §2 stages 8–12): the agreement and its amounts by source, the
 * co-financing ledger, the contract and its savings, the works' milestones and progress, the
 * evidence (the agreement's scan, the acceptance act, photos), the monitoring visits and the
 * spending report. Pure: the application machine (version 3) keeps these in its context and asks
 * the rules below; the pages, the API and the stage lists read the same summary.
 */

/** Where a project's money comes from: the programme's subsidy and the three co-financing sources. */
export const fundSources = ['subsidy', 'localBudget', 'residents', 'business'] as const;
export type FundSource = (typeof fundSources)[number];
/** The co-financing sources: what the municipality must collect before the contract (`confirm-contributions`). */
export const coFinancingSources: readonly FundSource[] = ['localBudget', 'residents', 'business'];
export type Amounts = Record<FundSource, number>;

/** A contribution's source as the event names it (`local-budget`), and the key of the amounts (`localBudget`). */
export const contributionSources = ['subsidy', 'local-budget', 'residents', 'business'] as const;
export type ContributionSource = (typeof contributionSources)[number];
export const sourceKey = (source: ContributionSource): FundSource => (source === 'local-budget' ? 'localBudget' : source);

const kopecks = z.number().int().min(0).max(10_000_000_000_000);
const positiveKopecks = z.number().int().min(1).max(10_000_000_000_000);

/** A calendar day, `YYYY-MM-DD`, that exists (30 February does not). */
export const daySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD').refine((day) => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 2000 && y <= 2100 && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}, 'a date that exists');

export const amountsSchema = z.strictObject({ subsidy: kopecks, localBudget: kopecks, residents: kopecks, business: kopecks });

/** An INN (ИНН): 10 digits for an organisation, 12 for a person or an entrepreneur, with its check digits. */
export function validInn(inn: string): boolean {
  if (!/^(\d{10}|\d{12})$/.test(inn)) return false;
  const digits = [...inn].map(Number);
  const check = (weights: number[]) => (weights.reduce((sum, w, i) => sum + w * digits[i]!, 0) % 11) % 10;
  if (digits.length === 10) return check([2, 4, 10, 3, 5, 9, 4, 6, 8]) === digits[9];
  return check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === digits[10] && check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) === digits[11];
}

export const milestoneKinds = ['site-handed-over', 'works-started', 'works-finished', 'acceptance-signed', 'opening-ceremony'] as const;
export type MilestoneKind = (typeof milestoneKinds)[number];

/** What an implementation file is evidence of. */
export const evidenceKinds = ['agreement-scan', 'acceptance-act', 'photo'] as const;
export type EvidenceKind = (typeof evidenceKinds)[number];

/** The file types and size each kind of evidence takes: scans as PDF or pictures, photos as pictures. */
export const evidenceRules: Record<EvidenceKind, { fileTypes: ('pdf' | 'jpeg' | 'png')[]; maxBytes: number }> = {
  'agreement-scan': { fileTypes: ['pdf', 'jpeg', 'png'], maxBytes: 20 * 1024 * 1024 },
  'acceptance-act': { fileTypes: ['pdf', 'jpeg', 'png'], maxBytes: 20 * 1024 * 1024 },
  photo: { fileTypes: ['jpeg', 'png'], maxBytes: 15 * 1024 * 1024 },
};

const note = text({ min: 0, max: 2000, multiline: true }).optional();
const seqSchema = z.number().int().min(1).max(2_147_483_647);

/** The payloads of the events after the award (application machine, version 3). */
export const implementationEventSchemas = {
  'sign-agreement': z.strictObject({ agreementNo: text({ max: 100 }), signedOn: daySchema, amounts: amountsSchema }),
  'record-contribution': z.strictObject({
    source: z.enum(contributionSources),
    amountKopecks: positiveKopecks,
    receivedOn: daySchema,
    payer: text({ min: 0, max: 300 }).optional(),
    reference: text({ min: 0, max: 100 }).optional(),
  }),
  'cancel-contribution': z.strictObject({ seq: seqSchema, reason: text({ max: 2000, multiline: true }) }),
  'sign-contract': z.strictObject({
    contractNo: text({ max: 100 }),
    signedOn: daySchema,
    contractor: text({ max: 300 }),
    contractorInn: z.string().refine(validInn, 'an INN of 10 or 12 digits with its check digits'),
    priceKopecks: positiveKopecks,
    noticeNo: text({ min: 0, max: 100 }).optional(),
  }),
  'record-milestone': z.strictObject({ kind: z.enum(milestoneKinds), on: daySchema, note }),
  'report-progress': z.strictObject({ percent: z.number().int().min(0).max(100), note }),
  /** Written only by the upload, after the file is stored under its SHA-256 (src/workflows/documents/evidence.ts). */
  'attach-evidence': z.strictObject({
    kind: z.enum(evidenceKinds),
    caption: text({ min: 0, max: 300 }).optional(),
    name: documentNameSchema,
    size: z.number().int().min(1).max(MAX_DOCUMENT_BYTES),
    mediaType: z.enum(mediaTypes as [MediaType, ...MediaType[]]),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  'record-monitoring': z.strictObject({
    visitedOn: daySchema,
    inspector: text({ max: 300 }),
    verdict: z.enum(['ok', 'issues']),
    finding: text({ max: 2000, multiline: true }),
  }),
  'resolve-issue': z.strictObject({ seq: seqSchema, note: text({ max: 2000, multiline: true }) }),
  'report-spending': z.strictObject({ actual: amountsSchema }),
} as const;

export interface Agreement {
  agreementNo: string;
  /** Null for an agreement recorded before version 3 (its number only; its amounts were the application's costs). */
  signedOn: string | null;
  amounts: Amounts | null;
  at: string | null;
}
export interface Contribution {
  seq: number;
  source: FundSource;
  amountKopecks: number;
  receivedOn: string;
  payer: string | null;
  reference: string | null;
  at: string;
  by: string;
  cancelled: { seq: number; reason: string; at: string } | null;
}
export interface Contract {
  contractNo: string | null;
  signedOn: string | null;
  contractor: string;
  contractorInn: string | null;
  priceKopecks: number;
  noticeNo: string | null;
  /** What the programme does with the co-financiers' share of the savings, as it was when the contract was signed. */
  savingsRule: SavingsRule | null;
  /** Null for a contract recorded before version 3 (contractor and price only). */
  at: string | null;
}
export type SavingsRule = 'refund' | 'keep';
export const savingsRules: readonly SavingsRule[] = ['keep', 'refund'];
export interface Milestone {
  seq: number;
  kind: MilestoneKind;
  on: string;
  note: string | null;
  at: string;
}
export interface ProgressReport {
  seq: number;
  percent: number;
  note: string | null;
  at: string;
}
export interface Evidence {
  seq: number;
  kind: EvidenceKind;
  caption: string | null;
  name: string;
  size: number;
  mediaType: string;
  sha256: string;
  at: string;
  /** Taken during the works, or after them (a monitoring visit's). */
  state: 'works' | 'monitoring';
}
export interface Visit {
  seq: number;
  visitedOn: string;
  /** Null for a visit recorded before version 3 (its finding only). */
  inspector: string | null;
  verdict: 'ok' | 'issues';
  finding: string;
  at: string;
  resolution: { seq: number; note: string; at: string } | null;
}
export interface Spending {
  seq: number;
  actual: Amounts;
  at: string;
}

/** The implementation as the application (version 3) holds it. */
export interface Implementation {
  awardedKopecks: number | null;
  agreement: Agreement | null;
  contributions: Contribution[];
  contract: Contract | null;
  milestones: Milestone[];
  progress: ProgressReport[];
  progressPercent: number;
  evidence: Evidence[];
  visits: Visit[];
  spending: Spending | null;
}

export const emptyImplementation = (): Omit<Implementation, 'awardedKopecks' | 'progressPercent'> => ({
  agreement: null,
  contributions: [],
  contract: null,
  milestones: [],
  progress: [],
  evidence: [],
  visits: [],
  spending: null,
});

export const zeroAmounts = (): Amounts => ({ subsidy: 0, localBudget: 0, residents: 0, business: 0 });
export const sumAmounts = (amounts: Amounts): number => fundSources.reduce((sum, key) => sum + amounts[key], 0);

/** What each source has paid in: the contributions not cancelled. */
export function receivedBySource(contributions: readonly Contribution[]): Amounts {
  const received = zeroAmounts();
  for (const c of contributions) if (!c.cancelled) received[c.source] += c.amountKopecks;
  return received;
}

/**
 * The savings (agreed total − contract price) split over the sources in proportion to the
 * agreement, in whole kopecks by the largest remainder, so that the parts add up to the whole.
 */
export function splitSavings(amounts: Amounts, priceKopecks: number): { total: number; bySource: Amounts } {
  const agreed = sumAmounts(amounts);
  const total = Math.max(0, agreed - priceKopecks);
  const bySource = zeroAmounts();
  if (total === 0 || agreed === 0) return { total, bySource };
  const parts = fundSources.map((key) => {
    const exact = BigInt(total) * BigInt(amounts[key]);
    return { key, whole: Number(exact / BigInt(agreed)), remainder: exact % BigInt(agreed) };
  });
  let left = total - parts.reduce((sum, p) => sum + p.whole, 0);
  for (const part of [...parts].sort((a, b) => (b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : 0))) {
    if (left <= 0) break;
    part.whole += 1;
    left -= 1;
  }
  for (const part of parts) bySource[part.key] = part.whole;
  return { total, bySource };
}

/** `part / total` below `minBp` basis points, exactly (BigInt: amounts near the maximum exceed 2^53 in the product). */
const shareBelow = (part: number, total: number, minBp: number) => BigInt(part) * 10_000n < BigInt(total) * BigInt(minBp);
/** The share in basis points, rounded down, for the message. */
const shareBp = (part: number, total: number) => (total === 0 ? 0 : Number((BigInt(part) * 10_000n) / BigInt(total)));

/** The programme's minimum shares, as the agreement is checked against them. */
export interface ShareRules {
  minLocalShareBp: number;
  minResidentsShareBp: number;
}

/** Why an agreement cannot be signed with these amounts: the subsidy is the award, each share at least the programme's minimum. */
export function agreementProblems(awardedKopecks: number | null, amounts: Amounts, rules: ShareRules | undefined): Problem[] {
  const problems: Problem[] = [];
  if (amounts.subsidy !== (awardedKopecks ?? 0))
    problems.push({ field: 'amounts.subsidy', code: 'agreement-subsidy-not-award', params: { subsidy: amounts.subsidy, award: awardedKopecks ?? 0 } });
  const total = sumAmounts(amounts);
  if (!rules) return [...problems, { code: 'programme-rules-unknown' }];
  const checks: [FundSource, number][] = [
    ['localBudget', rules.minLocalShareBp],
    ['residents', rules.minResidentsShareBp],
  ];
  for (const [key, minBp] of checks) {
    if (total > 0 && shareBelow(amounts[key], total, minBp))
      problems.push({ field: `amounts.${key}`, code: 'agreement-share-below', params: { source: key, shareBp: shareBp(amounts[key], total), minBp } });
  }
  return problems;
}

/** The co-financing sources that have not received what the agreement says, each with both figures. */
export function contributionsShort(implementation: Pick<Implementation, 'agreement' | 'contributions'>): Problem[] {
  const amounts = implementation.agreement?.amounts;
  if (!amounts) return [{ code: 'agreement-amounts-unknown' }];
  const received = receivedBySource(implementation.contributions);
  return coFinancingSources
    .filter((key) => received[key] < amounts[key])
    .map((key) => ({ code: 'contribution-short', params: { source: key, agreed: amounts[key], received: received[key] } }));
}

/** The latest file of a kind of evidence, if any. */
export const latestEvidence = (evidence: readonly Evidence[], kind: EvidenceKind): Evidence | undefined => [...evidence].reverse().find((e) => e.kind === kind);

/** Why the works cannot be completed: the acceptance act attached and its signing recorded as a milestone. */
export function completeWorksProblems(implementation: Pick<Implementation, 'evidence' | 'milestones'>): Problem[] {
  const problems: Problem[] = [];
  if (!latestEvidence(implementation.evidence, 'acceptance-act')) problems.push({ code: 'acceptance-act-missing' });
  if (!implementation.milestones.some((m) => m.kind === 'acceptance-signed')) problems.push({ code: 'acceptance-milestone-missing' });
  return problems;
}

/** Why the project cannot be closed: the spending report, the acceptance act, a monitoring visit, no open issue. */
export function closeProblems(implementation: Pick<Implementation, 'evidence' | 'visits' | 'spending'>): Problem[] {
  const problems: Problem[] = [];
  if (!implementation.spending) problems.push({ code: 'spending-report-missing' });
  if (!latestEvidence(implementation.evidence, 'acceptance-act')) problems.push({ code: 'acceptance-act-missing' });
  if (implementation.visits.length === 0) problems.push({ code: 'monitoring-visit-missing' });
  for (const visit of implementation.visits) if (visit.verdict === 'issues' && !visit.resolution) problems.push({ code: 'monitoring-issue-open', params: { seq: visit.seq, visitedOn: visit.visitedOn } });
  return problems;
}

/** A report of money spent may not exceed what each source paid in. */
export function spendingProblems(implementation: Pick<Implementation, 'contributions'>, actual: Amounts): Problem[] {
  const received = receivedBySource(implementation.contributions);
  return fundSources
    .filter((key) => actual[key] > received[key])
    .map((key) => ({ field: `actual.${key}`, code: 'spending-above-received', params: { source: key, spent: actual[key], received: received[key] } }));
}

/** What blocks the next step of a project in each state, as problems (the summary's `missing` are their codes). */
export function nextStepProblems(state: string, implementation: Implementation): Problem[] {
  switch (state) {
    case 'awarded':
      return [{ code: 'implementation-not-started' }];
    case 'implementation.agreement':
      return [{ code: 'agreement-not-signed' }];
    case 'implementation.co-financing':
      return contributionsShort(implementation);
    case 'implementation.procurement':
      return [{ code: 'contract-not-signed' }];
    case 'implementation.works':
      return completeWorksProblems(implementation);
    case 'implementation.completed':
      return closeProblems(implementation);
    default:
      return [];
  }
}

/** The implementation as the API and the pages show it (money in kopecks). */
export interface ImplementationSummary {
  agreement: Agreement | null;
  agreedTotal: number | null;
  contributions: Contribution[];
  received: { bySource: Amounts; total: number };
  contract: Contract | null;
  savings: { total: number; bySource: Amounts; rule: SavingsRule | null } | null;
  milestones: Milestone[];
  progressPercent: number;
  progress: ProgressReport[];
  photos: Evidence[];
  documents: { agreementScan: Evidence | null; acceptanceAct: Evidence | null };
  visits: Visit[];
  spending: Spending | null;
  missing: string[];
  /** The same, with parameters (which source, how much), for the words on a page. */
  missingProblems: Problem[];
}

export function implementationSummary(state: string, implementation: Implementation): ImplementationSummary {
  const received = receivedBySource(implementation.contributions);
  const amounts = implementation.agreement?.amounts ?? null;
  const contract = implementation.contract;
  const savings = amounts && contract ? { ...splitSavings(amounts, contract.priceKopecks), rule: contract.savingsRule } : null;
  const missingProblems = nextStepProblems(state, implementation);
  return {
    agreement: implementation.agreement,
    agreedTotal: amounts ? sumAmounts(amounts) : null,
    contributions: implementation.contributions,
    received: { bySource: received, total: sumAmounts(received) },
    contract,
    savings,
    milestones: [...implementation.milestones].sort((a, b) => (a.on < b.on ? -1 : a.on > b.on ? 1 : a.seq - b.seq)),
    progressPercent: implementation.progressPercent,
    progress: implementation.progress,
    photos: implementation.evidence.filter((e) => e.kind === 'photo'),
    documents: { agreementScan: latestEvidence(implementation.evidence, 'agreement-scan') ?? null, acceptanceAct: latestEvidence(implementation.evidence, 'acceptance-act') ?? null },
    visits: implementation.visits,
    spending: implementation.spending,
    missing: missingProblems.map((p) => (p.params?.source ? `${p.code}:${p.params.source}` : p.code)),
    missingProblems,
  };
}

/**
 * The implementation records of any application's context. A stream still on version 1 or 2 (awarded
 * before the upgrade, not moved yet) has none of them: it reads as nothing recorded, which is what
 * the ledger holds for it; it moves over at its next event (machines/registry.ts).
 */
export function implementationOf(context: Partial<Implementation>): Implementation {
  return {
    ...emptyImplementation(),
    awardedKopecks: context.awardedKopecks ?? null,
    progressPercent: context.progressPercent ?? 0,
    ...Object.fromEntries(Object.entries(context).filter(([key]) => key in implementationKeys)),
  } as Implementation;
}
const implementationKeys: Record<keyof Implementation, true> = {
  awardedKopecks: true,
  agreement: true,
  contributions: true,
  contract: true,
  milestones: true,
  progress: true,
  progressPercent: true,
  evidence: true,
  visits: true,
  spending: true,
};

/** The list row's figures after the award: agreed, received, spent (kopecks), the progress. Version 1 and 2 contexts have none of them. */
export function implementationFigures(context: Partial<Implementation>) {
  const amounts = context.agreement?.amounts ?? null;
  return {
    agreedKopecks: amounts ? sumAmounts(amounts) : null,
    receivedKopecks: sumAmounts(receivedBySource(context.contributions ?? [])),
    spentKopecks: context.spending ? sumAmounts(context.spending.actual) : null,
    progressPercent: context.progressPercent ?? 0,
  };
}

/** Who records and cancels a source's money (the machine's rule `subsidy-by-coordinator`): the subsidy is the coordinator's. */
export function mayHandleSource(role: string, source: string): boolean {
  return source !== 'subsidy' || role === 'coordinator';
}
