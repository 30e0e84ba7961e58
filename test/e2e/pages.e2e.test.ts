import { describe, expect, it } from 'vitest';
import { roles, type Role } from '../../src/domain/roles.ts';
import { hasChromium, useDemoBrowser } from './browser.ts';
import { checkPages, idsOf, notPages, pageRoutes, pagesFor } from './page-checks.ts';

/**
 * Every page of the demo as each role, at a laptop's 1366 px and a phone's 390 px (issue 16): no
 * element wider than the viewport except inside a scroll box the keyboard can reach, zero axe-core
 * violations, and no console or script error. The pages come from the app's own route table, so
 * that a page added later is checked too, or named below with why it is not a page.
 */
const logins: Record<Role, string> = {
  applicant: 'applicant1',
  reviewer: 'reviewer1',
  coordinator: 'coordinator1',
  commission: 'commission1',
  auditor: 'auditor1',
  admin: 'admin1',
};

describe.skipIf(!hasChromium)('every page of the demo, as each role, at 1366 and 390 px', () => {
  const demo = useDemoBrowser();

  const pages = (role: Role | null) => pagesFor(demo.server.app.routeRules, role, idsOf(demo.server));

  it('names every GET route that is not a page, and fills the parameters of every page', () => {
    const routes = pageRoutes(demo.server.app.routeRules);
    const unknown = Object.keys(notPages).filter((url) => !routes.some((rule) => rule.url === url));
    expect(unknown).toEqual([]);
    for (const role of [...roles, null]) expect(pages(role).length).toBeGreaterThan(0);
  });

  // A role's 20–35 pages, each measured twice and checked by axe-core: about half a minute on an idle machine.
  it.each([null, ...roles] as (Role | null)[])('as %s', { timeout: 300_000 }, async (role) => {
    const urls = pages(role);
    const findings = await checkPages(demo.browser, demo.server, role ? logins[role] : null, urls);
    expect(findings.map((f) => `${f.url} @${f.width}: ${f.what}`)).toEqual([]);
  });
});
