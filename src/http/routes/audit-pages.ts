import { bodyText } from '../forms.ts';
import { formBody } from '../page-kit.ts';
import { applicationLabel } from '../../workflows/application/registration.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../domain/roles.ts';
import { loadApplication } from '../../workflows/application/reads.ts';
import { checkDocumentFiles } from '../../workflows/documents/check.ts';
import { jobPhase, verifyJobView, type VerifyJob } from '../../audit/verify-jobs.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { findProgramme } from '../../workflows/programme/reads.ts';
import { municipalityName } from '../../read/applications.ts';
import { auditSearch } from '../../audit/search.ts';
import { historyCsv, historyExport } from '../../audit/export.ts';
import { chartLabels, chartSvg, historyRows, problemViews, replayOf, stepView } from '../../audit/views.ts';
import { renderStatechart } from '../../audit/statechart.ts';
import { access } from '../authorization.ts';
import { securityLogPage, verifySecurityLog } from '../../accounts/security-log.ts';

const SECURITY_PAGE = 50;
const securityLogQuery = z.object({ before: z.coerce.number().int().positive().optional().catch(undefined) });
import { idParam } from './params.ts';
import { historyExportSchemas } from '../api-schemas.ts';
import { contentDisposition } from '../content-disposition.ts';

const seqQuery = z.object({ seq: z.coerce.number().int().min(1).max(1_000_000).optional().catch(undefined) });
const searchQuery = z.object({ q: z.string().max(200).optional().catch(undefined) });
const ledgerQuery = z.object({
  head: z.string().trim().regex(/^[0-9a-f]{64}$/).optional().catch(undefined),
  full: z.literal('1').optional().catch(undefined),
  job: z.string().regex(/^[0-9a-f]{16}$/).optional().catch(undefined),
});
const jobParam = z.object({ job: z.string().regex(/^[0-9a-f]{16}$/).catch('') });

/**
 * The auditor's pages (issue 4): search, an application's history with its verdict, the replay
 * stepper, the whole-ledger verification, the statecharts, and the history exports. Everything
 * here reads; nothing sends an event. Other roles see the same for what they may see: an
 * applicant only its municipality's applications, through `findApplication`.
 */
export async function auditPages(app: FastifyInstance) {
  const search = auditSearch(app.db);

  /** The application, its stream and its programme, or a 404 for what the actor may not see. */
  function load(actor: Actor, id: number) {
    const { row, stream } = loadApplication(app.engine, actor, id);
    const programme = findProgramme(app.db, row.programmeId)!;
    const municipality = municipalityName(app.db, row.municipalityId);
    return { row, stream, programme, municipality };
  }

  async function applicationPage(request: FastifyRequest, reply: FastifyReply, id: number, verify: boolean) {
    const actor = request.actor!;
    const { row, stream, programme, municipality } = load(actor, id);
    const { rows, result } = replayOf(app.engine, stream);
    // The verdict also holds the application's document files against the hashes its events recorded.
    const documents = verify ? await checkDocumentFiles(app.db, app.documentStore, { streamId: stream.id }) : { files: 0, problems: [] };
    const problems = [...result.problems, ...documents.problems];
    const t = request.t;
    const entry = app.engine.registry.get(stream.machineId, stream.machineVersion);
    return reply.page('pages/audit-application.eta', {
      title: t('audit.appTitle', { id: applicationLabel(row) }),
      row,
      programme,
      municipality,
      history: historyRows(t, request.lang, programme.timeZone, rows),
      verified: verify,
      ok: problems.length === 0,
      eventCount: rows.length,
      documentCount: documents.files,
      headHash: stream.headHash,
      problems: problemViews(t, problems),
      statechart: entry
        ? chartSvg(t, entry.machine, { active: stream.state, description: t('audit.chartCurrent', { state: chartLabels(t).stateLabel(stream.state) }), idPrefix: 'sc-current' })
        : '',
    });
  }

  app.get('/audit', { config: { access: access.signedIn } }, async (request, reply) => {
    const { q } = searchQuery.parse(request.query ?? {});
    const rows = search(request.actor!, q);
    return reply.page('pages/audit-search.eta', { title: request.t('audit.title'), q: q ?? '', rows, searched: q !== undefined && q.trim() !== '' });
  });

  app.get('/audit/applications/:id', { config: { access: access.signedIn } }, async (request, reply) =>
    applicationPage(request, reply, idParam(request.params), false),
  );

  app.get('/audit/applications/:id/verify', { config: { access: access.signedIn } }, async (request, reply) =>
    applicationPage(request, reply, idParam(request.params), true),
  );

  app.get('/audit/applications/:id/replay', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = request.actor!;
    const { row, stream, programme } = load(actor, idParam(request.params));
    const { rows, result } = replayOf(app.engine, stream);
    const total = result.steps.length;
    const asked = seqQuery.parse(request.query ?? {}).seq ?? total;
    const seq = result.steps.some((s) => s.seq === asked) ? asked : total;
    const step = stepView(request.t, request.lang, programme.timeZone, app.engine, rows, result, seq);
    const seqs = result.steps.map((s) => s.seq);
    const at = seqs.indexOf(seq);
    return reply.page('pages/audit-replay.eta', {
      title: request.t('audit.replayTitle', { id: applicationLabel(row) }),
      row,
      programme,
      step,
      firstSeq: seqs[0],
      prevSeq: at > 0 ? seqs[at - 1] : null,
      nextSeq: at < seqs.length - 1 ? seqs[at + 1] : null,
      lastSeq: seqs.at(-1),
      ok: result.ok,
      problems: problemViews(request.t, result.problems),
    });
  });

  /** The history as a download: JSON ready for an independent re-check, or CSV for a spreadsheet. */
  function sendExport(request: FastifyRequest, reply: FastifyReply, format: 'json' | 'csv') {
    const { row, stream, programme, municipality } = load(request.actor!, idParam(request.params));
    const { rows, result } = replayOf(app.engine, stream);
    const name = `application-${row.id}-history.${format}`;
    void reply.header('Content-Disposition', contentDisposition('attachment', name)).header('Cache-Control', 'no-store');
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(historyCsv(rows, programme.timeZone));
    const body = historyExport({
      application: { id: row.id, title: row.title, municipality, programme: programme.title, timeZone: programme.timeZone },
      stream: { id: stream.id, machineId: stream.machineId, machineVersion: stream.machineVersion, version: stream.version, state: stream.state, headHash: stream.headHash },
      rows,
      replay: { ok: result.ok, problems: result.problems },
      now: new Date(),
    });
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(body, null, 2));
  }

  // Pages download with the session cookie; the API (bearer tokens) serves the same files, documented.
  for (const prefix of ['/audit/applications', '/api/applications']) {
    const documented = (format: 'json' | 'csv') => (prefix.startsWith('/api/') ? { schema: historyExportSchemas[format] } : {});
    app.get(`${prefix}/:id/history.json`, { config: { access: access.signedIn }, ...documented('json') }, async (request, reply) => sendExport(request, reply, 'json'));
    app.get(`${prefix}/:id/history.csv`, { config: { access: access.signedIn }, ...documented('csv') }, async (request, reply) => sendExport(request, reply, 'csv'));
  }

  /** The ledger page's model of a job: its view, its problems in words, and whether a published head matched. */
  function ledgerJob(request: FastifyRequest, job: VerifyJob) {
    const view = verifyJobView(job);
    // The job's phase as flags, so that the template asks no state (test/unit/layout.unit.test.ts).
    const phase = jobPhase(job);
    return {
      job: view,
      ...phase,
      problems: problemViews(request.t, view.problems),
      headMatches: job.expectedHead && phase.done ? !view.problems.some((p) => p.kind === 'head-mismatch' && p.stream === '*') : null,
      publishedHead: job.expectedHead,
    };
  }

  // The whole-ledger verification runs as a job (issue 17): the page starts one (or joins the one
  // running) and shows its progress, polling the job's fragment until the report replaces it. On
  // an in-memory database the job runs on this thread, and the page shows its report at once.
  app.get('/audit/ledger', { config: { access: access.auditors } }, async (request, reply) => {
    const { head, full, job: asked } = ledgerQuery.parse(request.query ?? {});
    let job = asked ? app.verifyJobs.get(asked) : undefined;
    if (!job) {
      // A read writes nothing: the checkpoints are kept only by a verification the auditor asks for (the POST below).
      job = app.verifyJobs.start({ full: full === '1', save: false, ...(head ? { expectedHead: head } : {}) });
      if (!app.verifyJobs.inWorker) await job.finished;
    }
    return reply.page('pages/audit-ledger.eta', { title: request.t('audit.ledgerTitle'), ...ledgerJob(request, job) });
  });

  /** The auditor asks for a verification (what was added, or the whole log): it keeps its checkpoints, then the page follows it. */
  app.post('/audit/ledger', { config: { access: access.auditors } }, async (request, reply) => {
    const full = bodyText(formBody(request), 'full') === '1';
    const job = app.verifyJobs.start({ full, save: app.verifyJobs.inWorker });
    if (!app.verifyJobs.inWorker) await job.finished;
    return reply.redirect(`/audit/ledger?job=${job.id}`, 303);
  });

  /** The job's part of the ledger page, for htmx to poll while it runs. */
  app.get('/audit/ledger/jobs/:job', { config: { access: access.auditors } }, async (request, reply) => {
    const { job: id } = jobParam.parse(request.params);
    const job = app.verifyJobs.get(id);
    if (!job) throw new NotFoundError('no such verification job');
    return reply.page('partials/ledger-job.eta', ledgerJob(request, job));
  });

  // The security log (issue 17.2, ASVS 7.x): who changed which account, newest first, a page at a time.
  app.get('/audit/security-log', { config: { access: access.auditors } }, async (request, reply) => {
    const { before } = securityLogQuery.parse(request.query ?? {});
    const t = request.t;
    const rows = securityLogPage(app.db, { ...(before ? { before } : {}), limit: SECURITY_PAGE + 1 });
    const shown = rows.slice(0, SECURITY_PAGE);
    const zone = app.db.$client.prepare<[], { zone: string }>('SELECT time_zone AS zone FROM programmes ORDER BY id DESC LIMIT 1').get()?.zone ?? 'Europe/Samara';
    const logins = new Map(app.db.$client.prepare<[], { id: number; login: string }>('SELECT id, login FROM users').all().map((u) => [String(u.id), u.login]));
    const chain = verifySecurityLog(app.db);
    const entries = shown.map((row) => {
      let actor: string;
      try {
        const parsed = JSON.parse(row.actor) as { login?: string } | string;
        actor = typeof parsed === 'string' ? t('audit.security.system') : (parsed.login ?? '?');
      } catch {
        actor = '?';
      }
      const action = t(`audit.security.action.${row.action}`);
      return {
        position: row.position,
        at: row.at,
        actor,
        action: action === `audit.security.action.${row.action}` ? row.action : action,
        subject: logins.get(row.subject) ?? `#${row.subject}`,
        details: row.details,
      };
    });
    return reply.page('pages/audit-security-log.eta', {
      title: t('audit.security.title'),
      entries,
      zone,
      intact: chain.problems.length === 0 && chain.differences.length === 0,
      problems: [...chain.problems.map((p) => p.message), ...chain.differences.map((d) => `users ${d.key}: ${d.column} ${JSON.stringify(d.stored)} ≠ ${JSON.stringify(d.derived)}`)],
      older: rows.length > SECURITY_PAGE ? shown.at(-1)!.position : null,
      newer: before !== undefined,
    });
  });

  app.get('/audit/machines', { config: { access: access.signedIn } }, async (request, reply) => {
    const t = request.t;
    const labels = chartLabels(t);
    const machines = app.engine.registry.entries().map((entry) => ({
      id: entry.id,
      version: entry.version,
      name: t(`audit.machine.${entry.id}`) === `audit.machine.${entry.id}` ? entry.id : t(`audit.machine.${entry.id}`),
      svg: renderStatechart(entry.machine, { ...labels, title: `${entry.id} v${entry.version}`, idPrefix: `sc-${entry.id}-${entry.version}` }),
    }));
    return reply.page('pages/audit-machines.eta', { title: t('audit.machinesTitle'), machines });
  });
}
