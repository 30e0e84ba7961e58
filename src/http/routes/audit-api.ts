import type { FastifyInstance } from 'fastify';
import { verifyLedgerAndDocuments } from '../../workflows/documents/check.ts';
import { access } from '../authorization.ts';

export async function auditApi(app: FastifyInstance) {
  app.get('/api/audit/verify', { config: { access: access.auditors } }, async () => {
    return verifyLedgerAndDocuments(app.db, app.engine.registry, app.documentStore);
  });
}
