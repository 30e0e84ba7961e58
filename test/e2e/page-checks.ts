import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import type { Role } from '../../src/domain/roles.ts';
import { allows, type RouteRule } from '../../src/http/authorization.ts';
import { signIn, watchedPage, type DemoServer } from './browser.ts';

/**
 * The checks of the every-page test (issue 16), apart so that they can be run by hand against a
 * running demo as well: the pages of each role with the demo's ids, elements wider than the
 * viewport, axe-core's violations.
 */
export const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** GET routes that answer with something other than a page, and why. */
export const notPages: Record<string, string> = {
  '/healthz': 'JSON',
  '/readyz': 'JSON for the supervisor',
  '/lang/:lang': 'a redirect back',
  '/p/:programmeId/projects/:id/photos/:sha256': 'a winning project’s photo (an image)',
  '/p/:programmeId/projects/:id/documents/:sha256': 'a file download',
  '/dashboard': 'a redirect to the current programme’s dashboard',
  '/queue/next': 'a redirect to the next application',
  '/applications/:id/documents/:sha256': 'a file download',
  '/applications/:id/documents/:sha256/preview': 'the file itself, shown inline',
  '/programmes/:id/ranking.csv': 'a download',
  '/programmes/:id/ranking.xlsx': 'a download',
  '/audit/applications/:id/history.json': 'a download',
  '/audit/applications/:id/history.csv': 'a download',
  '/programmes/:id/commission/ranking': 'the ranking fragment the commission page polls',
  '/audit/ledger/jobs/:job': 'the verification job fragment the ledger page polls',
  '/programmes/:id/coverage.csv': 'a download',
  '/programmes/:id/register.csv': 'a download',
  '/programmes/:id/register.xlsx': 'a download',
  '/programmes/:id/report.xlsx': 'a download',
  '/programmes/:id/journal/:entryId/documents/:sha256': 'a file download',
  '/notifications/count': 'the badge fragment the layout polls',
  '/applications/:id/conversation': 'the conversation fragment an open application page fetches',
  '/applications/:id/messages/:seq/files/:sha256': 'a file download',
};

export interface Ids {
  currentProgramme: number;
  pastProgramme: number;
  /** Applications every staff role looks at: one in each part of the workflow. */
  staffApplications: number[];
  /** applicant1's own: a draft (editable), one returned, one awarded last year. */
  applicantApplications: number[];
  applicantDraft: number;
  userId: number;
  municipalityId: number;
  /** A journal entry of the current programme. */
  journalEntry: number;
  /** The public portal's pages of winning projects (issue 15): one being built, one closed. */
  publicProjects: string[];
}

export function idsOf(server: Pick<DemoServer, 'url' | 'db'>): Ids {
  const one = <T>(sql: string): T => server.db.$client.prepare<[], T>(sql).get()!;
  const first = (sql: string) => one<{ id: number }>(sql).id;
  const own = `municipality_id = (SELECT municipality_id FROM users WHERE login = 'applicant1')`;
  const current = first('SELECT id FROM programmes ORDER BY year DESC LIMIT 1');
  const past = first('SELECT id FROM programmes ORDER BY year ASC LIMIT 1');
  // A re-review (submitted after a return), one under review, one returned, one in implementation.
  const reReviewed = first(`SELECT a.id FROM applications a WHERE a.state = 'submitted' AND EXISTS (SELECT 1 FROM events e WHERE e.stream_id = a.stream_id AND e.type = 'return-for-revision') ORDER BY a.id LIMIT 1`);
  return {
    currentProgramme: current,
    pastProgramme: past,
    staffApplications: [
      reReviewed,
      first(`SELECT id FROM applications WHERE state = 'under-review' ORDER BY id LIMIT 1`),
      first(`SELECT id FROM applications WHERE state = 'returned' ORDER BY id LIMIT 1`),
      first(`SELECT id FROM applications WHERE state LIKE 'implementation.%' ORDER BY id LIMIT 1`),
      // The implementation card (issue 11): under works (photos, visits, the upload form) and closed (the spending report).
      first(`SELECT id FROM applications WHERE state = 'implementation.works' ORDER BY id LIMIT 1`),
      first(`SELECT id FROM applications WHERE state = 'closed' ORDER BY id LIMIT 1`),
    ],
    applicantApplications: [
      first(`SELECT id FROM applications WHERE ${own} AND state = 'returned' ORDER BY id LIMIT 1`),
      first(`SELECT id FROM applications WHERE ${own} AND state IN ('awarded', 'closed') OR (${own} AND state LIKE 'implementation.%') ORDER BY id LIMIT 1`),
    ],
    applicantDraft: first(`SELECT id FROM applications WHERE ${own} AND state = 'draft' ORDER BY id LIMIT 1`),
    userId: first(`SELECT id FROM users WHERE login = 'reviewer1'`),
    municipalityId: first(`SELECT id FROM municipalities ORDER BY id LIMIT 1`),
    journalEntry: first(`SELECT id FROM journal_entries WHERE programme_id = ${current} ORDER BY id LIMIT 1`),
    publicProjects: ["state = 'implementation.works'", "state = 'closed'"].map((where) => {
      const row = one<{ id: number; programmeId: number }>(`SELECT id, programme_id AS programmeId FROM applications WHERE ${where} ORDER BY id LIMIT 1`);
      return `/p/${row.programmeId}/projects/${row.id}`;
    }),
  };
}

/** The concrete URLs of a route for a role: its path parameters filled with the demo's ids. */
export function urlsOf(route: string, role: Role | null, ids: Ids): string[] {
  const applications = role === 'applicant' ? ids.applicantApplications : ids.staffApplications;
  const fills: Record<string, string[]> = {
    '/applications/:id': applications.map(String),
    '/applications/:id/edit': [String(ids.applicantDraft)],
    '/programmes/:id': [String(ids.currentProgramme), String(ids.pastProgramme)],
    // A running stage, a finished one and a planned one; last year's stages 8–11 list their projects (issue 11), one sorted.
    '/programmes/:id/stages/:no': [
      ...[6, 1, 9].map((no) => `${ids.currentProgramme}/stages/${no}`),
      ...[8, 9, 10, 11].map((no) => `${ids.pastProgramme}/stages/${no}`),
      `${ids.pastProgramme}/stages/8?sort=received&dir=desc`,
    ],
    '/programmes/:id/commission': [String(ids.pastProgramme), String(ids.currentProgramme)],
    '/programmes/:id/protocol': [String(ids.pastProgramme), String(ids.currentProgramme)],
    '/programmes/:id/criteria': [String(ids.currentProgramme)],
    '/programmes/:id/documents': [String(ids.currentProgramme)],
    '/audit/applications/:id': [String(applications[0])],
    '/audit/applications/:id/verify': [String(applications[0])],
    '/audit/applications/:id/replay': [String(applications[0])],
    '/admin/users/:id': [String(ids.userId)],
    '/admin/municipalities/:id': [String(ids.municipalityId)],
    '/programmes/:id/journal': [String(ids.currentProgramme)],
    // The form is opened for a kind of entry: one with a stage's fields and a consultation.
    '/programmes/:id/journal/new': [`${ids.currentProgramme}/journal/new?kind=training`, `${ids.currentProgramme}/journal/new?kind=consultation`],
    '/programmes/:id/journal/:entryId': [`${ids.currentProgramme}/journal/${ids.journalEntry}`],
    '/programmes/:id/coverage': [String(ids.currentProgramme)],
    // The register, in its default order and sorted by a column with a state filter (issue 13).
    '/programmes/:id/register': [`${ids.currentProgramme}/register`, `${ids.currentProgramme}/register?sort=awarded&dir=desc&state=awarded`],
    '/programmes/:id/deadlines': [String(ids.currentProgramme)],
    // The coordinator's dashboard (issue 13): this year's programme, in its intake, and last year's, closed.
    '/programmes/:id/dashboard': [String(ids.currentProgramme), String(ids.pastProgramme)],
    // The analytical report (issue 13): last year's, closing with its recommendations, and this year's beside it.
    '/programmes/:id/report': [String(ids.pastProgramme), String(ids.currentProgramme)],
    // The public portal (issue 15): this year's programme in its intake and last year's, decided and built; whole paths.
    '/p/:programmeId': [`/p/${ids.currentProgramme}`, `/p/${ids.pastProgramme}`],
    '/p/:programmeId/applications': [`/p/${ids.currentProgramme}/applications`, `/p/${ids.pastProgramme}/applications`],
    '/p/:programmeId/results': [`/p/${ids.currentProgramme}/results`, `/p/${ids.pastProgramme}/results`],
    '/p/:programmeId/projects/:id': ids.publicProjects,
  };
  if (!route.includes(':')) return [route];
  const values = fills[route];
  if (!values) throw new Error(`no demo ids for ${route}: add it to the fills of this test`);
  // A route with two parameters, or a query, is filled with the whole path after /programmes/.
  const whole = (route.match(/:\w+/g) ?? []).length > 1 || values.some((value) => value.includes('?'));
  return values.map((value) => (value.startsWith('/') ? value : whole ? `/programmes/${value}` : route.replace(/:\w+/, value)));
}

export interface Finding {
  url: string;
  width: number;
  what: string;
}

/** Elements reaching past the viewport, outside any scroll box the keyboard can focus. */
export async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    const insideFocusableScroller = (element: Element): boolean => {
      for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
        const style = getComputedStyle(node);
        if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && node.tabIndex >= 0 && node.scrollWidth > node.clientWidth - 1) return true;
        if (style.overflowX === 'auto' || style.overflowX === 'scroll' || style.overflowX === 'hidden' || style.overflowX === 'clip') {
          // Clipped by a box that is not wider than the viewport: what matters is that box.
          const box = node.getBoundingClientRect();
          if (box.right <= width + 1 && box.left >= -1) return style.overflowX === 'hidden' || style.overflowX === 'clip' || node.tabIndex >= 0;
        }
      }
      return false;
    };
    if (document.documentElement.scrollWidth > width + 1) found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px in ${width} px`);
    for (const element of document.body.querySelectorAll('*')) {
      const rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      if (rect.right <= width + 1 && rect.left >= -1) continue;
      const style = getComputedStyle(element);
      if (style.position === 'absolute' && (style.clip !== 'auto' || style.clipPath !== 'none')) continue; // visually hidden
      if (insideFocusableScroller(element)) continue;
      const name = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.classList.length ? `.${[...element.classList].join('.')}` : ''}`;
      found.push(`${name} spans ${Math.round(rect.left)}…${Math.round(rect.right)} px`);
      if (found.length >= 5) break;
    }
    return found;
  });
}

/** axe-core's violations on the page as it is, one line each: rule, impact, the first nodes. */
export async function axeViolations(page: Page, options: { contrast?: boolean } = {}): Promise<string[]> {
  // Evaluated through the DevTools protocol, which our Content-Security-Policy does not govern.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async (contrast) => {
    const result = await (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
      ...(contrast ? {} : { rules: { 'color-contrast': { enabled: false } } }),
    });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }, options.contrast ?? true);
  return violations;
}

export async function checkPages(browser: Browser, server: Pick<DemoServer, 'url' | 'db'>, login: string | null, urls: string[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { page, errors } = await watchedPage(browser, { viewport: { width: 1366, height: 768 } });
  // tsx (esbuild's keepNames) wraps the functions it hands the page in __name; vitest does not.
  await page.addInitScript('window.__name = (f) => f');
  if (login) await signIn(page, server, login);
  for (const url of urls) {
    errors.length = 0;
    await page.setViewportSize({ width: 1366, height: 768 });
    const response = await page.goto(`${server.url}${url}`, { waitUntil: 'load' });
    if (response?.status() !== 200) findings.push({ url, width: 1366, what: `status ${response?.status()}` });
    // One load, both widths: the phone's layout is the same document after a resize.
    for (const width of [1366, 390]) {
      if (width !== 1366) await page.setViewportSize({ width, height: 844 });
      for (const what of await overflowing(page)) findings.push({ url, width, what });
      // Colours do not change with the width: the contrast, the slowest of axe's rules, is checked once.
      for (const what of await axeViolations(page, { contrast: width === 1366 })) findings.push({ url, width, what: `axe: ${what}` });
    }
    for (const what of errors) findings.push({ url, width: 0, what: `console: ${what}` });
  }
  await page.context().close();
  return findings;
}

/** The GET routes of the app that answer with pages. */
export function pageRoutes(rules: readonly RouteRule[]): RouteRule[] {
  return rules.filter((rule) => rule.method === 'GET' && !rule.url.startsWith('/api/') && !rule.url.startsWith('/static/') && !rule.url.startsWith('/vendor/'));
}

/** Every page a role (null: a visitor) may open, with the demo's ids. */
export function pagesFor(rules: readonly RouteRule[], role: Role | null, ids: Ids): string[] {
  return pageRoutes(rules)
    .filter((rule) => !(rule.url in notPages))
    .filter((rule) => allows(rule.access, role) && (role !== null || rule.access === 'public'))
    .flatMap((rule) => urlsOf(rule.url, role, ids));
}
