import type { Deps } from '../deps.js';
import { ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { exportJobView } from './jobs-export.js';
import { pathParam } from './request.js';

export const JOB_ID = /^job_[A-Za-z0-9]{1,64}$/;

export const jobEndpoints = {
  /** `GET /api/v2/jobs/{id}`: a job's status by its type; a completed export gives its file's `location`. */
  get: {
    scopes: ['read:users', 'create:users'],
    async run(req: ManagementRequest<Pick<Deps, 'exportJobs' | 'now' | 'jobs'>>) {
      const id = pathParam(req.event, 'id', JOB_ID);
      const job = await req.deps.exportJobs.get(req.ctx.tenant, id, Math.floor(req.deps.now() / 1000));
      if (!job) throw managementErrors.notFound('inexistent_job', 'The job does not exist.');
      const location = job.status === 'completed' && job.file_key && req.deps.jobs ? await req.deps.jobs.exportFiles.location(job.file_key) : undefined;
      return ok({ ...exportJobView(job), ...(location ? { location } : {}) });
    },
  },
} satisfies Record<string, ManagementEndpoint>;
