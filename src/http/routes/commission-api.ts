import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../domain/roles.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { recordDecision } from '../../workflows/commission/decision.ts';
import { saveCommissionSettings } from '../../workflows/commission/settings.ts';
import { commissionReads, rankingFor, readCommissionSettings, type DecisionView, type RankingView } from '../../workflows/commission/reads.ts';
import { requireActor } from '../plugins/auth.ts';
import { access, allows } from '../authorization.ts';
import { idParam, objectBody } from './params.ts';

/** The ranking, the criteria and the decision through the JSON API (DESIGN §6, issue 5). */

function decisionJson(decision: DecisionView) {
  return {
    id: decision.id,
    programmeId: decision.programmeId,
    decidedAt: decision.decidedAt,
    decidedBy: decision.decidedBy,
    membersPresent: decision.membersPresent,
    ledgerHead: decision.ledgerHead,
    ledgerEvents: decision.ledgerEvents,
    recordHash: decision.recordHash,
  };
}

/** The ranking in the public contract's shape: money in kopecks, points in hundredths and as numbers. */
export function rankingJson(view: RankingView, decision: DecisionView | null) {
  return {
    programmeId: view.programme.id,
    decided: decision !== null,
    decision: decision ? decisionJson(decision) : null,
    fundKopecks: view.programme.fundKopecks,
    capKopecks: view.programme.capKopecks,
    alreadyAwardedKopecks: view.alreadyAwardedKopecks,
    availableKopecks: view.availableKopecks,
    allocatedKopecks: view.allocatedKopecks,
    fundLeftKopecks: view.fundLeftKopecks,
    quorum: view.settings.quorum,
    partialAward: view.settings.partialAward,
    criteria: view.settings.criteria,
    rows: view.rows.map((row) => ({
      rank: row.rank,
      applicationId: row.applicationId,
      title: row.title,
      municipality: row.municipality,
      firstSubmittedAt: row.firstSubmittedAt,
      scores: {
        criteria: Object.fromEntries(row.criteria.map((c) => [c.key, c.pointsCenti / 100])),
        criteriaCenti: Object.fromEntries(row.criteria.map((c) => [c.key, c.pointsCenti])),
        total: row.totalCenti / 100,
        totalCenti: row.totalCenti,
        members: row.scores.map((s) => ({ memberId: s.memberId, memberName: s.memberName, significance: s.significanceCenti / 100, at: s.at })),
      },
      requestedKopecks: row.requestedKopecks,
      allocatedKopecks: row.allocatedKopecks,
      fundLeftKopecks: row.fundLeftKopecks,
      outcome: row.outcome,
      why: row.why,
    })),
  };
}

export async function commissionApi(app: FastifyInstance) {
  const reads = commissionReads(app.db);
  // Before the decision the live ranking is the commission's working paper: staff only.
  const visible = (actor: Actor, decided: boolean) => decided || allows(access.liveRanking, actor.role);

  app.get('/api/programmes/:id/ranking', { config: { access: access.signedIn } }, async (request) => {
    const actor = requireActor(request);
    const found = rankingFor(reads, idParam(request.params));
    if (!found || !visible(actor, found.decision !== null)) throw new NotFoundError();
    return rankingJson(found.view, found.decision);
  });

  app.get('/api/programmes/:id/criteria', { config: { access: access.signedIn } }, async (request) => {
    requireActor(request);
    const programmeId = idParam(request.params);
    if (!reads.programme(programmeId)) throw new NotFoundError();
    return { programmeId, ...readCommissionSettings(app.db, programmeId), fixed: reads.commissionStageState(programmeId) !== 'planned' };
  });

  app.put('/api/programmes/:id/criteria', { config: { access: access.admin } }, async (request) => {
    const actor = requireActor(request);
    const programmeId = idParam(request.params);
    return { programmeId, ...saveCommissionSettings(app.engine, actor, programmeId, objectBody(request.body)), fixed: false };
  });

  app.get('/api/programmes/:id/decision', { config: { access: access.signedIn } }, async (request) => {
    requireActor(request);
    const decision = reads.decision(idParam(request.params));
    if (!decision) throw new NotFoundError();
    return decisionJson(decision);
  });

  app.post('/api/programmes/:id/decision', { config: { access: access.decide } }, async (request, reply) => {
    const actor = requireActor(request);
    const programmeId = idParam(request.params);
    const decision = recordDecision(app.engine, actor, programmeId, objectBody(request.body));
    return reply.code(201).send(rankingJson(decision.record, decision));
  });
}
