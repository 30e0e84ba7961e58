import type { FastifyInstance } from 'fastify';
import { verifyLedger } from '../../engine/replay.ts';
import { requireRole } from '../plugins/auth.ts';

export async function auditApi(app: FastifyInstance) {
  app.get('/api/audit/verify', async (request) => {
    requireRole(request, ['auditor', 'admin']);
    return verifyLedger(app.db, app.engine.registry);
  });
}
