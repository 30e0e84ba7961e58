import type { FastifyInstance } from 'fastify';
import { verifyLedger } from '../../engine/replay.ts';
import { access } from '../authorization.ts';

export async function auditApi(app: FastifyInstance) {
  app.get('/api/audit/verify', { config: { access: access.auditors } }, async () => {
    return verifyLedger(app.db, app.engine.registry);
  });
}
