import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFoundError } from '../../engine/errors.ts';
import { verifyJobView } from '../../audit/verify-jobs.ts';
import { access } from '../authorization.ts';
import { errors, json, pathErrors, verifyJobParams, verifyJobQuery, verifyJobResponse, verifyJobStarted, verifyResponse } from '../api-schemas.ts';

export async function auditApi(app: FastifyInstance) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  // A full verify as before, answered when it is done; on a file database it runs in a worker
  // thread all the same, so that the server's other requests and writes go on meanwhile.
  api.get(
    '/api/audit/verify',
    {
      config: { access: access.auditors },
      schema: {
        tags: ['audit'],
        summary: 'Verify the whole ledger: replay every stream, check every chain and stored file, give the head',
        response: { 200: json('the report; `ok` is false when anything is wrong', verifyResponse), ...errors(401, 403, [503, 'the verification could not run (a storage fault): try again']) },
      },
    },
    async (request, reply) => {
      // A read writes nothing, not even checkpoints: `POST /api/audit/verify` keeps them.
      const job = await app.verifyJobs.start({ full: true, save: false }).finished;
      if (!job.report) {
        request.log.error({ job: job.id, error: job.error }, 'verify failed');
        return reply.code(503).send({ error: 'verify-failed', message: request.t('audit.jobFailed') });
      }
      return job.report;
    },
  );

  api.post(
    '/api/audit/verify',
    {
      config: { access: access.auditors },
      schema: {
        tags: ['audit'],
        summary: 'Start a verification of the ledger as a job; ask `GET /api/audit/verify/{job}` how far it is',
        description:
          'Incremental unless `full=1`: each stream is replayed only from where the last verification found it sound (its checkpoint), after checking that the event there is still the one verified. ' +
          'A tampered event below a checkpoint is found by a full verification. The document files are checked whole either way. A request like a job already running joins it.',
        querystring: verifyJobQuery,
        response: { 202: json('started (or joined): the job to ask about', verifyJobStarted), ...errors(401, 403) },
      },
    },
    async (request, reply) => {
      const { full, head } = request.query;
      const job = app.verifyJobs.start({ full: full === '1', ...(head ? { expectedHead: head } : {}) });
      return reply.code(202).header('Location', `/api/audit/verify/${job.id}`).send({ job: job.id });
    },
  );

  api.get(
    '/api/audit/verify/:job',
    {
      config: { access: access.auditors },
      schema: {
        tags: ['audit'],
        summary: 'How far a verification job is, and its report once it is done',
        params: verifyJobParams,
        response: { 200: json('the job: `running` with its progress, `done` with the report, or `failed` with why', verifyJobResponse), ...errors(401, 403, ...pathErrors, [404, 'no such job (the server keeps the last 20, until it restarts)']) },
      },
    },
    async (request) => {
      const job = app.verifyJobs.get(request.params.job);
      if (!job) throw new NotFoundError('no such verification job');
      return verifyJobView(job);
    },
  );
}
