import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { verifyLedgerAndDocuments } from '../../workflows/documents/check.ts';
import { access } from '../authorization.ts';
import { errors, json, verifyResponse } from '../api-schemas.ts';

export async function auditApi(app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/audit/verify',
    {
      config: { access: access.auditors },
      schema: {
        tags: ['audit'],
        summary: 'Verify the whole ledger: replay every stream, check every chain and stored file, give the head',
        response: { 200: json('the report; `ok` is false when anything is wrong', verifyResponse), ...errors(401, 403) },
      },
    },
    async () => verifyLedgerAndDocuments(app.db, app.engine.registry, app.documentStore),
  );
}
