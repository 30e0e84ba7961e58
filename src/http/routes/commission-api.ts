import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Actor } from '../../domain/roles.ts';
import { NotFoundError } from '../../engine/errors.ts';
import { recordDecision } from '../../workflows/commission/decision.ts';
import { saveCommissionSettings } from '../../workflows/commission/settings.ts';
import { commissionReads, rankingFor, readCommissionSettings, type DecisionView, type RankingView } from '../../workflows/commission/reads.ts';
import { requireActor } from '../plugins/auth.ts';
import { access, allows } from '../authorization.ts';
import { bodyErrors, commissionSettingsBody, criteriaResponse, decisionBody, decisionResponse, errors, idParams, json, pathErrors, rankingResponse } from '../api-schemas.ts';

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
  const api = app.withTypeProvider<ZodTypeProvider>();
  const reads = commissionReads(app.db);
  // Before the decision the live ranking is the commission's working paper: staff only.
  const visible = (actor: Actor, decided: boolean) => decided || allows(access.liveRanking, actor.role);
  const tags = ['commission'];

  api.get(
    '/api/programmes/:id/ranking',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'The ranking: scores, requested and allocated subsidy, the fund left',
        description: 'The decided ranking once the commission has decided, the live one before; applicants see it only once decided.',
        params: idParams,
        response: { 200: json('the ranking', rankingResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const found = rankingFor(reads, request.params.id);
      if (!found || !visible(actor, found.decision !== null)) throw new NotFoundError();
      return rankingJson(found.view, found.decision);
    },
  );

  api.get(
    '/api/programmes/:id/criteria',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'The scoring criteria and weights, the quorum and whether partial awards are made',
        params: idParams,
        response: { 200: json('the settings', criteriaResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      requireActor(request);
      const programmeId = request.params.id;
      if (!reads.programme(programmeId)) throw new NotFoundError();
      return { programmeId, ...readCommissionSettings(app.db, programmeId), fixed: reads.commissionStageState(programmeId) !== 'planned' };
    },
  );

  api.put(
    '/api/programmes/:id/criteria',
    {
      config: { access: access.admin },
      schema: {
        tags,
        summary: 'Set the criteria (while the commission stage is still planned)',
        params: idParams,
        body: commissionSettingsBody,
        response: { 200: json('the settings as saved', criteriaResponse), ...errors(401, 403, ...pathErrors, ...bodyErrors) },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const programmeId = request.params.id;
      return { programmeId, ...await app.engine.write(() => saveCommissionSettings(app.engine, actor, programmeId, request.body)), fixed: false };
    },
  );

  api.get(
    '/api/programmes/:id/decision',
    {
      config: { access: access.signedIn },
      schema: {
        tags,
        summary: 'The commission’s decision, with the ledger head it was anchored to',
        params: idParams,
        response: { 200: json('the decision', decisionResponse), ...errors(401, ...pathErrors) },
      },
    },
    async (request) => {
      requireActor(request);
      const decision = reads.decision(request.params.id);
      if (!decision) throw new NotFoundError();
      return decisionJson(decision);
    },
  );

  api.post(
    '/api/programmes/:id/decision',
    {
      config: { access: access.decide },
      schema: {
        tags,
        summary: 'Record the decision: award or not every accepted application by the ranking, all at once',
        params: idParams,
        body: decisionBody,
        response: { 201: json('decided: the ranking as recorded', rankingResponse), ...errors(401, 403, ...pathErrors, ...bodyErrors) },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const decision = await app.engine.write(() => recordDecision(app.engine, actor, request.params.id, request.body));
      return reply.code(201).send(rankingJson(decision.record, decision));
    },
  );
}
