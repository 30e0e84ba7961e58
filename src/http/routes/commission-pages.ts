import { localeOf, numberFormat } from '../../domain/intl.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/roles.ts';
import { criterionKeys, formatPoints, maxTotalCenti, memberCriterion, type CriterionSetting } from '../../domain/criteria.ts';
import { formatRoubles } from '../../domain/money.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../engine/errors.ts';
import { ledgerHeadOf } from '../../engine/verify.ts';
import type { Lang, Translate } from '../../i18n/index.ts';
import { sendApplicationEvent } from '../../workflows/application/commands.ts';
import { findApplication } from '../../workflows/application/reads.ts';
import { applicationLabels } from '../../workflows/application/registration.ts';
import { recordDecision } from '../../workflows/commission/decision.ts';
import { meetingOf } from '../../workflows/commission/meeting.ts';
import { protocolExtras } from '../protocol-view.ts';
import { commissionReads, rankingFor, type DecisionView, type RankingRow, type RankingView } from '../../workflows/commission/reads.ts';
import { whyNotChangeSettings, whyNotDecide, whyNotScore } from '../../workflows/commission/rules.ts';
import { saveCommissionSettings } from '../../workflows/commission/settings.ts';
import { stageReads } from '../../workflows/stage/reads.ts';
import { localToday } from '../../workflows/stage/overview.ts';
import { access, allows } from '../authorization.ts';
import { bodyText, readEventPayload } from '../forms.ts';
import { actorOf, attempt, attemptWrite, formBody, formVersion, type Notice } from '../page-kit.ts';
import { isHtmx } from '../plugins/auth.ts';
import { blockerText, refusalText, stageName } from '../refusals.ts';
import { formulaText, rankingCsv, rankingXlsx } from '../exports/ranking.ts';
import { idParam } from './params.ts';
import { contentDisposition } from '../content-disposition.ts';
import { TEXT_CHARACTERS_PROBLEM } from '../../domain/text.ts';

/**
 * The commission's pages (issue 5): the ranking as it stands with the members' scoring, the
 * decision, the printable protocol, the CSV and XLSX exports, and the criteria an admin sets.
 * Only the commission scores and decides; staff read the live ranking; once the decision is
 * recorded the protocol and the ranking are published to everyone signed in.
 */

/** Before the decision the live ranking is the commission's working paper (staff only); once decided it is published. */
function mayRead(actor: Actor, decided: boolean): boolean {
  return decided || allows(access.liveRanking, actor.role);
}

/** Everything a template needs to show the points and shares without computing. */
function presenter(t: Translate, lang: Lang, view: RankingView) {
  const money = (kopecks: number) => formatRoubles(kopecks, lang);
  const pct = (value: number | null) => (value === null ? '—' : `${numberFormat(localeOf(lang), { maximumFractionDigits: 1 }).format(value)} %`);
  return {
    points: (centi: number) => formatPoints(centi, lang),
    measure: (key: string, value: number | null) =>
      value === null ? '—' : key === memberCriterion ? t('commission.measure.average', { value: numberFormat(localeOf(lang), { maximumFractionDigits: 2 }).format(value) }) : pct(value),
    why: (row: RankingRow) =>
      row.why === null ? '' : t(`commission.why.${row.why}`, { cap: money(view.programme.capKopecks), left: money(row.fundLeftKopecks) }),
    outcomeTone: (row: RankingRow) => (row.outcome === 'award' ? 'success-strong' : row.outcome === 'partial' ? 'success' : 'muted'),
    formula: (c: CriterionSetting) => formulaText(t, c.key, c.weight, c.fullAtBp, view.programme.minLocalShareBp, lang),
    significance: (centi: number) => formatPoints(centi, lang),
    maxTotal: formatPoints(maxTotalCenti(view.settings.criteria), lang),
    requestedTotal: view.rows.reduce((sum, row) => sum + row.requestedKopecks, 0),
    bpInput: (bp: number) => (lang === 'ru' ? String(bp / 100).replace('.', ',') : String(bp / 100)),
  };
}

export async function commissionPages(app: FastifyInstance) {
  const reads = commissionReads(app.db);
  const stages = stageReads(app.db);

  function programmeOr404(programmeId: number) {
    const programme = reads.programme(programmeId);
    if (!programme) throw new NotFoundError();
    return programme;
  }

  /** The commission page's data, fresh. */
  function commissionView(request: FastifyRequest, actor: Actor, programmeId: number, extras: Record<string, unknown> = {}) {
    const programme = programmeOr404(programmeId);
    const t = request.t;
    const decision = reads.decision(programmeId);
    const live = decision ? undefined : reads.liveRanking(programmeId);
    const view: RankingView = decision ? decision.record : live!;
    const stageState = reads.commissionStageState(programmeId);
    const mine = (row: RankingRow) => row.scores.find((s) => s.memberId === actor.id);
    const isMember = allows(access.score, actor.role);
    const short = view.rows.filter((row) => row.scores.length < view.settings.quorum);
    // The commission's rules (workflows/commission/rules.ts) decide what is offered; the commands throw the same.
    const canScore = whyNotScore(actor.role, stages.activeStageKeys(programmeId), decision !== undefined).length === 0;
    const decideProblems = live ? whyNotDecide(reads.decisionFacts(programmeId, live)) : [{ code: 'commission.refused.decided' }];
    return {
      title: t('commission.title', { title: programme.title }),
      programme,
      view,
      live: !decision,
      decision: decision ?? null,
      stageState,
      stageTitle: stageName(t, 'commission'),
      present: presenter(t, request.lang, view),
      canScore,
      // The form is shown while only the quorum is missing, so that the members see what is short.
      canDecide: allows(access.decide, actor.role) && decideProblems.every((p) => p.code === 'commission.refused.quorum'),
      decideBlockers: decideProblems.map((problem) => blockerText(t, problem)),
      isMember,
      myScores: isMember
        ? view.rows.map((row) => ({ row, mine: mine(row) ?? null, version: 'version' in row ? (row as { version: number }).version : 0 })).sort((a, b) => Number(a.mine !== null) - Number(b.mine !== null) || a.row.applicationId - b.row.applicationId)
        : [],
      significanceOptions: Array.from({ length: 11 }, (_, i) => ({ value: String(i / 2), centi: i * 50, label: formatPoints(i * 50, request.lang).replace(/[.,]00$/, '').replace(/([.,]5)0$/, '$1') })),
      unscored: isMember ? view.rows.filter((row) => !mine(row)).length : 0,
      short,
      members: reads.members(),
      meetingDefaults: { heldOn: localToday(programme.timeZone, app.engine.now()) },
      scoredBy: new Set(view.rows.flatMap((row) => row.scores.map((s) => s.memberId))),
      notice: null as Notice | null,
      ...extras,
    };
  }

  async function showCommission(request: FastifyRequest, reply: FastifyReply, programmeId: number, status = 200, extras: Record<string, unknown> = {}) {
    return reply.page('pages/commission.eta', commissionView(request, actorOf(request), programmeId, extras), status);
  }

  app.get('/programmes/:id/commission', { config: { access: access.staff } }, async (request, reply) => showCommission(request, reply, idParam(request.params)));

  /** The ranking alone, for htmx to refresh it while the members score. */
  app.get('/programmes/:id/commission/ranking', { config: { access: access.staff } }, async (request, reply) =>
    reply.page('partials/commission-ranking.eta', commissionView(request, actorOf(request), idParam(request.params))),
  );

  app.post('/programmes/:id/commission/scores', { config: { access: access.score } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    programmeOr404(programmeId);
    const body = formBody(request);
    const idText = bodyText(body, 'applicationId') ?? '';
    const t = request.t;
    const applicationId = /^[1-9]\d{0,9}$/.test(idText) ? Number(idText) : 0;
    const scored = await attemptWrite(app.engine, () => {
      const row = applicationId > 0 ? findApplication(app.db, actor, applicationId) : undefined;
      if (!row || row.programmeId !== programmeId) throw new ValidationError('no such application in this programme', [{ field: 'applicationId', code: 'unknown' }]);
      const { payload, problems } = readEventPayload('score', body, request.lang);
      if (problems.length > 0) throw new ValidationError('the score is invalid', problems);
      return sendApplicationEvent(app.engine, actor, applicationId, 'score', payload, formVersion(body));
    });
    // The notices name the application by its registration number (issue 13), as the ranking does.
    const label = () => applicationLabels(app.db, [applicationId]).get(applicationId) ?? String(applicationId);
    if (!scored.ok) {
      if (scored.error instanceof ConflictError) return showCommission(request, reply, programmeId, 409, { notice: { tone: 'warning', text: t('commission.score.stale', { id: label() }) } });
      const text = scored.error instanceof ValidationError ? scored.error.problems.map((p) => t(p.code === TEXT_CHARACTERS_PROBLEM ? 'commission.problem.text-characters' : `commission.problem.${p.field}`)).join(' ') : refusalText(t, request.lang, scored.error);
      return showCommission(request, reply, programmeId, scored.status, { notice: { tone: 'error', text: t('commission.score.refused', { message: text }) } });
    }
    if (isHtmx(request)) return showCommission(request, reply, programmeId, 200, { notice: { tone: 'success', text: t('commission.score.done', { id: label() }) } });
    return reply.redirect(`/programmes/${programmeId}/commission#score-${applicationId}`, 303);
  });

  app.post('/programmes/:id/commission/decision', { config: { access: access.decide } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    programmeOr404(programmeId);
    const body = formBody(request);
    const t = request.t;
    const raw = body.membersPresent;
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v): v is string => typeof v === 'string' && /^[1-9]\d{0,9}$/.test(v)).map(Number);
    // The meeting's details for the protocol (issue 16); what is left empty is written on the paper by hand.
    const text = (name: string) => bodyText(body, name)?.trim() || undefined;
    const member = (name: string) => (/^[1-9]\d{0,9}$/.test(text(name) ?? '') ? Number(text(name)) : undefined);
    const meeting = Object.fromEntries(
      Object.entries({ heldOn: text('heldOn'), place: text('place'), chairId: member('chairId'), secretaryId: member('secretaryId') }).filter(([, value]) => value !== undefined),
    );
    const decided = await attemptWrite(app.engine, () => {
      if (bodyText(body, 'confirm') !== 'yes') throw new ValidationError('the decision must be confirmed', [{ field: 'confirm', code: 'required' }]);
      return recordDecision(app.engine, actor, programmeId, { membersPresent: list, meeting });
    });
    if (!decided.ok) {
      const why = decided.error instanceof ValidationError ? decided.error.problems.map((p) => t(p.code === TEXT_CHARACTERS_PROBLEM ? 'commission.problem.text-characters' : `commission.problem.${p.field}`)).join(' ') : refusalText(t, request.lang, decided.error);
      return showCommission(request, reply, programmeId, decided.status, { notice: { tone: 'error', text: t('commission.decision.refused', { message: why }) } });
    }
    if (isHtmx(request)) return reply.header('HX-Redirect', `/programmes/${programmeId}/protocol`).code(204).send();
    return reply.redirect(`/programmes/${programmeId}/protocol`, 303);
  });

  app.get('/programmes/:id/protocol', { config: { access: access.signedIn } }, async (request, reply) => {
    const programmeId = idParam(request.params);
    const programme = programmeOr404(programmeId);
    const decision = reads.decision(programmeId);
    const t = request.t;
    if (!decision) {
      return reply.page('pages/protocol.eta', { title: t('protocol.title'), programme, decision: null, view: null, stageTitle: stageName(t, 'commission') });
    }
    // The head of the first N events today must be the head printed then: the log has only grown since.
    const check = ledgerHeadOf(app.db, decision.ledgerEvents);
    const view = decision.record;
    return reply.page('pages/protocol.eta', {
      title: t('protocol.titleNo', { no: decision.id, title: programme.title }),
      programme,
      decision,
      view,
      present: presenter(t, request.lang, view),
      winners: view.rows.filter((r) => r.allocatedKopecks > 0),
      losers: view.rows.filter((r) => r.allocatedKopecks === 0),
      ledgerIntact: check.events === decision.ledgerEvents && check.head === decision.ledgerHead,
      stageTitle: stageName(t, 'commission'),
      ...protocolExtras(t, request.lang, decision, meetingOf(app.db, decision.id)),
    });
  });

  async function exportView(request: FastifyRequest, actor: Actor): Promise<{ view: RankingView; decision: DecisionView | null; file: string }> {
    const programmeId = idParam(request.params);
    programmeOr404(programmeId);
    const found = rankingFor(reads, programmeId);
    if (!found || !mayRead(actor, found.decision !== null)) throw new NotFoundError();
    const stamp = found.decision ? found.decision.decidedAt.slice(0, 10) : app.engine.now().toISOString().slice(0, 10);
    return { ...found, file: `ranking-${programmeId}-${found.decision ? 'protocol' : 'preliminary'}-${stamp}` };
  }

  app.get('/programmes/:id/ranking.csv', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const { view, file } = await exportView(request, actor);
    return reply
      .header('Content-Disposition', contentDisposition('attachment', `${file}.csv`))
      .header('Cache-Control', 'no-store')
      .type('text/csv; charset=utf-8')
      .send(rankingCsv(request.t, request.lang, view));
  });

  app.get('/programmes/:id/ranking.xlsx', { config: { access: access.signedIn } }, async (request, reply) => {
    const actor = actorOf(request);
    const { view, decision, file } = await exportView(request, actor);
    const buffer = await rankingXlsx(request.t, request.lang, view, decision);
    return reply
      .header('Content-Disposition', contentDisposition('attachment', `${file}.xlsx`))
      .header('Cache-Control', 'no-store')
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .send(buffer);
  });

  /** The criteria page: everyone on the staff reads the formulas; an admin edits them while stage 7 is planned. */
  function criteriaView(request: FastifyRequest, actor: Actor, programmeId: number, extras: Record<string, unknown> = {}) {
    const programme = programmeOr404(programmeId);
    const live = reads.liveRanking(programmeId)!;
    const stageState = reads.commissionStageState(programmeId);
    return {
      title: request.t('commission.settings.title', { title: programme.title }),
      programme,
      view: live,
      settings: live.settings,
      present: presenter(request.t, request.lang, live),
      canEdit: allows(access.admin, actor.role) && whyNotChangeSettings(stageState).length === 0,
      fixed: whyNotChangeSettings(stageState).length > 0,
      stageTitle: stageName(request.t, 'commission'),
      notice: null as Notice | null,
      problems: {} as Record<string, string>,
      ...extras,
    };
  }

  app.get('/programmes/:id/criteria', { config: { access: access.staff } }, async (request, reply) =>
    reply.page('pages/commission-criteria.eta', criteriaView(request, actorOf(request), idParam(request.params))),
  );

  app.post('/programmes/:id/criteria', { config: { access: access.admin } }, async (request, reply) => {
    const actor = actorOf(request);
    const programmeId = idParam(request.params);
    programmeOr404(programmeId);
    const body = formBody(request);
    const t = request.t;
    const int = (name: string): number => {
      const text = bodyText(body, name)?.trim() ?? '';
      return /^\d{1,6}$/.test(text) ? Number(text) : NaN;
    };
    const percentBp = (name: string): number | null => {
      const text = (bodyText(body, name) ?? '').trim().replace(',', '.');
      return /^\d{1,3}(\.\d{1,2})?$/.test(text) ? Math.round(Number(text) * 100) : NaN;
    };
    const input = {
      criteria: criterionKeys.map((key) => ({ key, weight: int(`weight.${key}`), fullAtBp: key === memberCriterion ? null : percentBp(`fullAt.${key}`) })),
      quorum: int('quorum'),
      partialAward: bodyText(body, 'partialAward') === 'yes',
    };
    const saved = await attemptWrite(app.engine, () => saveCommissionSettings(app.engine, actor, programmeId, input));
    if (!saved.ok) {
      if (saved.error instanceof ValidationError) {
        const problems: Record<string, string> = {};
        for (const p of saved.error.problems) {
          const [head, index, field] = p.field.split('.');
          const name = head === 'criteria' && index !== undefined ? `${field === 'fullAtBp' ? 'fullAt' : 'weight'}.${input.criteria[Number(index)]?.key ?? ''}` : head!;
          problems[name] = t('commission.settings.invalid');
        }
        return reply.page('pages/commission-criteria.eta', criteriaView(request, actor, programmeId, { problems, notice: { tone: 'error', text: t('commission.settings.refused') } }), 422);
      }
      return reply.page('pages/commission-criteria.eta', criteriaView(request, actor, programmeId, { notice: { tone: 'error', text: refusalText(t, request.lang, saved.error) } }), saved.status);
    }
    if (isHtmx(request)) return reply.page('pages/commission-criteria.eta', criteriaView(request, actor, programmeId, { notice: { tone: 'success', text: t('commission.settings.saved') } }));
    return reply.redirect(`/programmes/${programmeId}/criteria`, 303);
  });
}
