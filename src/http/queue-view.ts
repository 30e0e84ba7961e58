import type { FastifyRequest } from 'fastify';
import type { Actor } from '../domain/roles.ts';
import type { Db } from '../db/client.ts';
import { queueQuerySchema, queueSorts, queueTabs, type Direction, type QueueSort, type QueueTab } from '../read/review-queue.ts';
import { listProgrammes, type ProgrammeRow } from '../workflows/programme/reads.ts';
import { access, allows } from './authorization.ts';

/**
 * Which tab of the queue an application page was opened from (issue 16): its `tab`, `sort` and
 * `dir`, so that "next application" opens the next of the same tab. They come with the page's URL;
 * an htmx action posts elsewhere and brings them in `HX-Current-URL`, a plain form in its Referer.
 */
export interface QueueContext {
  tab: QueueTab;
  sort: QueueSort;
  dir: Direction;
}

function contextOf(query: Record<string, unknown>): QueueContext | null {
  if (typeof query.tab !== 'string' || !(queueTabs as readonly string[]).includes(query.tab)) return null;
  const parsed = queueQuerySchema.parse(query);
  return { tab: parsed.tab!, sort: parsed.sort, dir: parsed.dir };
}

/** The query string of a URL that is ours (a path, or an absolute URL of this host). */
function queryOfUrl(request: FastifyRequest, url: unknown): Record<string, unknown> {
  if (typeof url !== 'string' || url.length > 2000) return {};
  try {
    const parsed = new URL(url, 'http://placeholder');
    if (parsed.host !== 'placeholder' && parsed.host !== request.headers.host) return {};
    return Object.fromEntries(parsed.searchParams);
  } catch {
    return {};
  }
}

export function queueContextOf(request: FastifyRequest): QueueContext | null {
  return (
    contextOf((request.query ?? {}) as Record<string, unknown>) ??
    contextOf(queryOfUrl(request, request.headers['hx-current-url'])) ??
    contextOf(queryOfUrl(request, request.headers.referer))
  );
}

/** `?tab=…&sort=…&dir=…`: the context appended to an application's URL. */
export function queueSuffix(context: QueueContext | null): string {
  return context ? `?${new URLSearchParams({ tab: context.tab, sort: context.sort, dir: context.dir }).toString()}` : '';
}

/** The tabs a role has: "mine" only for who may be assigned (those who take). */
export function tabsFor(actor: Actor): QueueTab[] {
  return queueTabs.filter((tab) => tab !== 'mine' || allows(access.take, actor.role));
}

/** A reviewer starts on their own tab, a coordinator on what waits for assignment, anyone else on the whole queue. */
export function defaultTab(actor: Actor): QueueTab {
  if (allows(access.take, actor.role)) return 'mine';
  if (allows(access.assign, actor.role)) return 'unassigned';
  return 'all';
}

/** The programme whose queue is shown by default: this year's, else the newest. */
export function defaultProgramme(db: Db, now: Date): ProgrammeRow | undefined {
  const programmes = listProgrammes(db);
  return programmes.find((p) => p.year === now.getUTCFullYear()) ?? programmes[0];
}

/** Sorting by "waiting" orders by the moment it began: the oldest first means the most days first. */
export const displayedDirection = (sort: QueueSort, dir: Direction): Direction => (sort === 'waiting' ? (dir === 'asc' ? 'desc' : 'asc') : dir);

export const queueColumns = Object.keys(queueSorts) as QueueSort[];

const DAY = 24 * 60 * 60 * 1000;
/** Whole days since a moment: the queue's "waiting" column. */
export const daysSince = (iso: string, now: Date): number => Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / DAY));
