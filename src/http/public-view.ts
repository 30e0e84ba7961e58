import type { Db } from '../db/client.ts';
import { fundSources } from '../domain/implementation.ts';
import { formatRoubles } from '../domain/money.ts';
import { formatDate, formatDay } from '../domain/time.ts';
import type { Lang, Translate } from '../i18n/index.ts';
import {
  publicAnnouncements,
  publicApplications,
  publicCriteria,
  publicDecision,
  publicProgramme,
  publicProgrammes,
  publicProject,
  publicRanking,
  publicRequirements,
  publicStages,
  publicStatus,
  type PublicApplication,
  type PublicProgramme,
} from '../read/public.ts';
import { isOverdue, localToday } from '../workflows/stage/overview.ts';
import { stageRunning } from '../../machines/stage.ts';
import { programmeTimeline } from './programme-timeline.ts';
import { stageName } from './refusals.ts';
import { publicDocumentKinds } from '../workflows/programme/public-settings.ts';

/**
 * The portal's documents (issue 15): each JSON twin is made from the public projection alone
 * (src/read/public.ts), and each page from its JSON twin alone, so that a page cannot show what
 * its JSON does not carry, and the JSON is held to its list of fields by a test.
 */

/** The programme the portal opens with: this year's, or the newest. */
export function currentProgramme(db: Db, now: Date): PublicProgramme | undefined {
  const programmes = publicProgrammes(db);
  return programmes.find((p) => p.year === now.getUTCFullYear()) ?? programmes[0];
}

/** An application as the public sees it: its state told as a public status, never the workflow's own. */
function publicRow({ state, ...rest }: PublicApplication) {
  return { ...rest, status: publicStatus(state)! };
}

/** Winners: awarded from the decision on, whatever they became since. */
const isWinner = (status: string) => status === 'winner' || status === 'being-built' || status === 'completed' || status === 'terminated';

function leverage(rows: ReturnType<typeof publicRow>[]) {
  const winners = rows.filter((r) => isWinner(r.status));
  const subsidy = winners.reduce((sum, r) => sum + (r.awardedKopecks ?? r.costs.subsidy), 0);
  const coFinancing = winners.reduce((sum, r) => sum + r.costs.localBudget + r.costs.residents + r.costs.business, 0);
  return {
    winners: winners.length,
    subsidyKopecks: subsidy,
    coFinancingKopecks: coFinancing,
    totalKopecks: subsidy + coFinancing,
    /** Co-financing per rouble of subsidy, in hundredths. */
    perRoubleCenti: subsidy > 0 ? Math.round((coFinancing * 100) / subsidy) : null,
  };
}

export function programmeJson(db: Db, programme: PublicProgramme) {
  const applications = publicApplications(db, programme.id).map(publicRow);
  const decision = publicDecision(db, programme.id);
  return {
    programme,
    announcements: publicAnnouncements(db, programme.id),
    rules: {
      fundKopecks: programme.fundKopecks,
      capKopecks: programme.capKopecks,
      minLocalShareBp: programme.minLocalShareBp,
      minResidentsShareBp: programme.minResidentsShareBp,
      criteria: publicCriteria(db, programme.id),
      documents: publicRequirements(db, programme.id).filter((r) => r.required),
    },
    stages: publicStages(db, programme.id),
    applications: applications.length,
    results: decision ? { decidedAt: decision.decidedAt, allocatedKopecks: decision.allocatedKopecks, fundKopecks: decision.fundKopecks, ...leverage(applications) } : null,
    archive: publicProgrammes(db)
      .filter((p) => p.id !== programme.id)
      .map((p) => ({ id: p.id, title: p.title, year: p.year })),
  };
}

export function applicationsJson(db: Db, programme: PublicProgramme) {
  const rows = publicApplications(db, programme.id).map(publicRow);
  const totals = { subsidy: 0, localBudget: 0, residents: 0, business: 0, total: 0 };
  for (const row of rows) {
    for (const key of fundSources) totals[key] += row.costs[key];
    totals.total += row.totalKopecks;
  }
  return { programme: { id: programme.id, title: programme.title, year: programme.year, timeZone: programme.timeZone }, applications: rows, totals };
}

export function resultsJson(db: Db, programme: PublicProgramme) {
  const decision = publicDecision(db, programme.id);
  const rows = publicApplications(db, programme.id).map(publicRow);
  const status = new Map(rows.map((r) => [r.id, r.status]));
  return {
    programme: { id: programme.id, title: programme.title, year: programme.year, timeZone: programme.timeZone },
    decision,
    ranking: decision ? publicRanking(db, programme.id).map((r) => ({ ...r, status: status.get(r.applicationId) ?? null })) : [],
    leverage: decision ? leverage(rows) : null,
  };
}

/** A winner's photo, served by the portal's own route (never the staff's document route). */
export const photoHref = (programmeId: number, id: number, sha256: string) => `/p/${programmeId}/projects/${id}/photos/${sha256}`;

export function projectJson(db: Db, programme: PublicProgramme, id: number) {
  const project = publicProject(db, programme.id, id, publicDocumentKinds(db, programme.id));
  if (!project) return undefined;
  const { state, ...rest } = project;
  return { programme: { id: programme.id, title: programme.title, year: programme.year, timeZone: programme.timeZone }, project: { ...rest, photos: rest.photos.map((photo) => ({ ...photo, href: photoHref(programme.id, id, photo.sha256) })),
      documents: rest.documents.map((document) => ({ ...document, href: `/p/${programme.id}/projects/${id}/documents/${document.sha256}` })),
      status: publicStatus(state)! } };
}

export type ProgrammeJson = ReturnType<typeof programmeJson>;
export type ApplicationsJson = ReturnType<typeof applicationsJson>;
export type ResultsJson = ReturnType<typeof resultsJson>;
export type ProjectJson = NonNullable<ReturnType<typeof projectJson>>;

const percent = (bp: number, lang: Lang) => `${(bp / 100).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB', { maximumFractionDigits: 2 })} %`;

/** The words of the portal's pages, from their JSON: formatting only. */
export function publicFormat(t: Translate, lang: Lang) {
  return {
    money: (kopecks: number | null | undefined) => `${formatRoubles(kopecks, lang)} ₽`,
    amount: (kopecks: number | null | undefined) => formatRoubles(kopecks, lang),
    day: (ymd: string | null | undefined) => formatDay(ymd, lang),
    date: (iso: string | null | undefined, timeZone: string) => formatDate(iso, timeZone, lang),
    percent: (bp: number) => percent(bp, lang),
    status: (status: string) => t(`public.publicStatus.${status}`),
    projectType: (type: string | null) => (type ? t(`projectType.${type}`) : '—'),
    ratio: (centi: number | null) => (centi === null ? '—' : (centi / 100).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })),
    points: (centi: number) => (centi / 100).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  };
}

/** The public status's badge colour, by the family of the states it stands for. */
export const statusTone: Record<string, string> = {
  'under-review': 'info',
  admitted: 'success',
  'not-admitted': 'danger',
  winner: 'success-strong',
  'not-winner': 'muted',
  'being-built': 'progress',
  completed: 'done',
  withdrawn: 'muted',
  terminated: 'danger',
};

/** The home page's model: the JSON, the timeline drawn from its stages (no counts, no links), the rules in words. */
export function programmePage(t: Translate, lang: Lang, data: ProgrammeJson, now: Date) {
  const { programme } = data;
  const today = localToday(programme.timeZone, now);
  const stages = data.stages.map((stage) => ({
    ...stage,
    title: stageName(t, stage.key),
    running: stageRunning(stage.state),
    overdue: isOverdue(stage, today),
    // The public timeline shows the dates and states only: what a stage holds is the staff's.
    holds: '',
    href: '',
  }));
  const requiredFor = new Map<string, string[]>();
  for (const doc of data.rules.documents) requiredFor.set(doc.projectType, [...(requiredFor.get(doc.projectType) ?? []), t(`field.document.${doc.kind}`)]);
  return {
    title: programme.title,
    data,
    timeline: programmeTimeline(t, programme, stages, now),
    stages: stages.map((s) => ({ ...s, stateLabel: t(`state.${s.state}`) })),
    criteria: data.rules.criteria.map((c) => ({ label: t(`commission.criterion.${c.key}`), weight: c.weight, fullAt: c.fullAtBp === null ? t('public.membersRating') : percent(c.fullAtBp, lang) })),
    documents: requiredFor.get('*') ?? [],
    documentsByType: [...requiredFor.entries()].filter(([type]) => type !== '*').map(([type, kinds]) => ({ type: t(`projectType.${type}`), kinds })),
  };
}
