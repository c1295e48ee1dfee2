import type { Deps } from '../deps.js';
import { header } from '../http/event.js';
import { created, currentConfig, noContent, nowIso, ok, type ManagementEndpoint, type ManagementRequest } from '../management/endpoint.js';
import { ManagementError, managementErrors } from '../management/errors.js';
import { jobEndpoints } from '../management/jobs.js';
import { pathParam } from '../management/request.js';
import { randomAlnum } from '../store/defaults.js';
import { MAX_ACTIVE_IMPORT_JOBS } from '../store/import-slots-repository.js';
import type { ImportJobRecord } from '../store/flow-records.js';

/** Auth0's limit of the users file. */
export const IMPORT_FILE_MAX_BYTES = 500 * 1024;
/** The whole multipart request: the file plus its fields and boundaries. */
export const IMPORT_REQUEST_MAX_BYTES = IMPORT_FILE_MAX_BYTES + 16 * 1024;
/** A batch (one table item, one queue message's work) holds at most this much of the file. */
const BATCH_MAX_BYTES = 256 * 1024;
const JOB_ID = /^job_[A-Za-z0-9]{16}$/;

const tooManyActiveJobs = () =>
  new ManagementError(
    429,
    'too_many_requests',
    `There are ${MAX_ACTIVE_IMPORT_JOBS} active import users jobs, please wait until some of them are finished and try again`,
  );
const fileTooLarge = () =>
  new ManagementError(413, 'payload_too_large', `Payload validation error: 'The users file is larger than ${IMPORT_FILE_MAX_BYTES} bytes (500 KB)' on property users.`);
const invalidFile = (why: string) => managementErrors.invalidBody(`'${why}' on property users.`);

async function readForm(req: ManagementRequest): Promise<FormData> {
  const type = header(req.event, 'content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) throw managementErrors.invalidBody(`'Expected a multipart/form-data body' on property (root).`);
  const raw = req.event.body;
  if (typeof raw !== 'string') throw managementErrors.invalidBody(`'Missing required property: users' on property users.`);
  const bytes = Buffer.from(raw, req.event.isBase64Encoded ? 'base64' : 'utf8');
  try {
    return await new Response(bytes, { headers: { 'content-type': type } }).formData();
  } catch {
    throw managementErrors.invalidBody(`'Malformed multipart/form-data body' on property (root).`);
  }
}

function boolField(form: FormData, name: string, fallback: boolean): boolean {
  const v = form.get(name);
  if (v === null) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw managementErrors.invalidBody(`'Expected type boolean but found type string' on property ${name}.`);
}

/** Cuts the users into batches of at most BATCH_MAX_BYTES of JSON each. */
export function cutIntoBatches(users: unknown[]): { batches: string[] } {
  const batches: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const u of users) {
    const text = JSON.stringify(u);
    if (current.length > 0 && size + text.length + 1 > BATCH_MAX_BYTES) {
      batches.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length) batches.push(`[${current.join(',')}]`);
  return { batches };
}

function jobView(job: ImportJobRecord) {
  return {
    status: job.status,
    type: job.type,
    created_at: job.created_at,
    id: job.id,
    connection_id: job.connection_id,
    connection: job.connection,
    upsert: job.upsert,
    ...(job.external_id !== undefined ? { external_id: job.external_id } : {}),
    send_completion_email: job.send_completion_email,
  };
}

async function findJob(req: ManagementRequest<Pick<Deps, 'importJobs'>>): Promise<ImportJobRecord> {
  const id = pathParam(req.event, 'id', JOB_ID);
  const job = await req.deps.importJobs.getJob(req.ctx.tenant, id);
  if (!job) throw managementErrors.notFound('inexistent_job', 'The job does not exist.');
  return job;
}

/** `POST /api/v2/jobs/users-imports`, `GET /api/v2/jobs/{id}`, `GET /api/v2/jobs/{id}/errors`: Auth0's import jobs. */
export const importJobEndpoints = {
  create: {
    scopes: ['create:users'],
    write: { description: 'Create an import users job', config: false },
    async run(req: ManagementRequest<Pick<Deps, 'importJobs' | 'importSlots' | 'now' | 'tenantConfigs' | 'jobQueue'>>) {
      const queue = req.deps.jobQueue;
      if (!queue) throw new ManagementError(501, 'not_configured', 'Jobs are not configured on this deployment.');
      const form = await readForm(req);
      const file = form.get('users');
      if (file === null) throw managementErrors.invalidBody(`'Missing required property: users' on property users.`);
      const text = typeof file === 'string' ? file : await file.text();
      if (Buffer.byteLength(text) > IMPORT_FILE_MAX_BYTES) throw fileTooLarge();

      const connectionId = form.get('connection_id');
      if (typeof connectionId !== 'string' || connectionId === '') {
        throw managementErrors.invalidBody(`'Missing required property: connection_id' on property connection_id.`);
      }
      const connection = (await currentConfig(req)).connections.get(connectionId);
      if (!connection) throw managementErrors.badRequest('inexistent_connection', 'The connection does not exist.');
      if (connection.strategy !== 'auth0') {
        throw managementErrors.badRequest('invalid_connection', 'Users can only be imported into a database connection.');
      }
      const upsert = boolField(form, 'upsert', false);
      const sendCompletionEmail = boolField(form, 'send_completion_email', true);
      const externalId = form.get('external_id');
      if (externalId !== null && (typeof externalId !== 'string' || externalId.length > 255)) {
        throw managementErrors.invalidBody(`'Expected a string of at most 255 characters' on property external_id.`);
      }

      let users: unknown;
      try {
        users = JSON.parse(text);
      } catch {
        throw invalidFile('The users file is not valid JSON');
      }
      if (!Array.isArray(users)) throw invalidFile('The users file must hold a JSON array of users');
      if (users.length === 0) throw invalidFile('The users file holds no users');

      const job: ImportJobRecord = {
        id: `job_${randomAlnum(16)}`,
        type: 'users_import',
        tenant: req.ctx.tenant,
        status: 'pending',
        connection_id: connection.id,
        connection: connection.name,
        upsert,
        ...(externalId !== null ? { external_id: externalId } : {}),
        send_completion_email: sendCompletionEmail,
        created_at: nowIso(req.deps),
        batches: 0,
        total: users.length,
      };
      const { batches } = cutIntoBatches(users);
      job.batches = batches.length;
      const jobs = req.deps.importJobs;
      // Auth0's limit of active import jobs per tenant, fleet-wide: a slot first, then the job.
      const slots = req.deps.importSlots;
      if (!(await slots.take(job.tenant, job.id, async (id) => (await jobs.getJob(job.tenant, id))?.status))) throw tooManyActiveJobs();
      try {
        await jobs.createImportJob(job, batches);
      } catch (err) {
        await slots.release(job.tenant, job.id).catch(() => {});
        throw err;
      }
      await queue.send(batches.map((_, batch) => ({ tenant: job.tenant, jobId: job.id, batch })));
      return created(jobView(job));
    },
  },
  /** `GET /api/v2/jobs/{id}` for every job type: an import job here, any other by its own endpoint (exports). */
  get: {
    scopes: ['create:users', 'read:users'],
    async run(req: ManagementRequest<Pick<Deps, 'importJobs' | 'exportJobs' | 'now' | 'jobs'>>) {
      const id = req.event.pathParameters?.id ?? '';
      const found = JOB_ID.test(id) ? await req.deps.importJobs.getJob(req.ctx.tenant, id) : undefined;
      if (!found) return jobEndpoints.get.run(req);
      const job = found;
      const jobs = req.deps.importJobs;
      const { done, ...summary } = await jobs.summary(req.ctx.tenant, job.id);
      const finished = job.status === 'completed' || job.status === 'failed';
      return ok({
        ...jobView(job),
        ...(finished ? { summary, completed_at: job.completed_at } : {}),
        percentage_done: finished ? 100 : Math.floor((done / Math.max(job.batches, 1)) * 100),
      });
    },
  },
  errors: {
    scopes: ['create:users', 'read:users'],
    async run(req: ManagementRequest<Pick<Deps, 'importJobs'>>) {
      const job = await findJob(req);
      const errors = await req.deps.importJobs.errors(req.ctx.tenant, job.id);
      // Auth0 answers 204 when the job has no errors.
      return errors.length ? ok(errors) : noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
