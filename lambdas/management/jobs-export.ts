import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { DEFAULT_EXPORT_FIELDS, EXPORT_RETENTION_SECONDS, exportFieldsProblem, MAX_EXPORT_USERS } from '../jobs/users-export.js';
import type { UsersExportJob } from '../store/export-jobs-repository.js';
import type { Deps } from '../deps.js';
import { created, currentConfig, nowIso, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { parseBody } from './request.js';

const exportSchema = z.strictObject({
  connection_id: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  format: z.optional(z.enum(['ndjson', 'csv'])),
  limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_EXPORT_USERS))),
  fields: z.optional(
    z.array(
      z.strictObject({
        name: z.string().check(z.minLength(1), z.maxLength(300)),
        export_as: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
      }),
    ).check(z.minLength(1), z.maxLength(100)),
  ),
});

/** The job as Auth0 shows it (`GET /api/v2/jobs/{id}` adds `location` once completed). */
export function exportJobView(job: UsersExportJob) {
  return {
    type: job.type,
    status: job.status,
    ...(job.connection_id ? { connection_id: job.connection_id, connection: job.connection } : {}),
    format: job.format,
    ...(job.limit !== undefined ? { limit: job.limit } : {}),
    fields: job.fields,
    id: job.id,
    created_at: job.created_at,
  };
}

export const exportJobEndpoints = {
  /**
   * `POST /api/v2/jobs/users-exports`: records a `pending` job and sends it to the job queue; the
   * worker streams the gzipped file out of the request (ndjson or csv, Auth0's `fields`).
   */
  create: {
    scopes: ['read:users'],
    write: { description: 'Create a users export job', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'exportJobs' | 'now' | 'tenantConfigs' | 'jobs' | 'jobQueue'>>) {
      const body = parseBody(exportSchema, req.event);
      const queue = req.deps.jobQueue;
      if (!req.deps.jobs || !queue) throw managementErrors.badRequest('operation_not_supported', 'Users exports are not configured on this deployment.');
      const fields = body.fields ?? DEFAULT_EXPORT_FIELDS;
      const problem = exportFieldsProblem(fields);
      if (problem) throw managementErrors.invalidBody(problem);
      let connection: { id: string; name: string } | undefined;
      if (body.connection_id) {
        connection = (await currentConfig(req)).connections.get(body.connection_id);
        if (!connection) throw managementErrors.badRequest('inexistent_connection', `The connection does not exist: ${body.connection_id.slice(0, 64)}`);
      }
      const job: UsersExportJob = {
        id: `job_${randomBytes(8).toString('hex')}`,
        tenant: req.ctx.tenant,
        type: 'users_export',
        status: 'pending',
        ...(connection ? { connection_id: connection.id, connection: connection.name } : {}),
        format: body.format ?? 'ndjson',
        ...(body.limit !== undefined ? { limit: body.limit } : {}),
        fields: fields.map((f) => ({ name: f.name, ...(f.export_as ? { export_as: f.export_as } : {}) })),
        created_at: nowIso(req.deps),
        ttl: Math.floor(req.deps.now() / 1000) + EXPORT_RETENTION_SECONDS,
      };
      await req.deps.exportJobs.create(job);
      await queue.send([{ tenant: job.tenant, jobId: job.id, type: job.type }]);
      return created(exportJobView(job));
    },
  },
} satisfies Record<string, ManagementEndpoint>;
