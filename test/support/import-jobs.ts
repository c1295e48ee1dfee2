/**
 * Test helpers for bulk-import jobs: post a users file as Auth0's SDKs do (multipart/form-data)
 * over real HTTP, and wait for the local in-process queue to finish the job.
 */
import type { TestService } from './local-service.js';

export interface ImportRequest {
  users: string;
  connection_id: string;
  upsert?: boolean;
  external_id?: string;
  send_completion_email?: boolean;
}

export async function postImport(service: TestService, token: string, req: ImportRequest): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.set('users', new Blob([req.users], { type: 'application/json' }), 'users.json');
  form.set('connection_id', req.connection_id);
  if (req.upsert !== undefined) form.set('upsert', String(req.upsert));
  if (req.external_id !== undefined) form.set('external_id', req.external_id);
  if (req.send_completion_email !== undefined) form.set('send_completion_email', String(req.send_completion_email));
  const res = await fetch(`${service.url}/api/v2/jobs/users-imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-forwarded-proto': 'https', 'x-forwarded-host': service.domain },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function getJson(service: TestService, token: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${service.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, 'x-forwarded-proto': 'https', 'x-forwarded-host': service.domain },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Posts the file, waits for the in-process queue, and answers the finished job. */
export async function importAndWait(service: TestService, token: string, req: ImportRequest): Promise<any> {
  const posted = await postImport(service, token, req);
  if (posted.status !== 201) throw new Error(`import refused: ${posted.status} ${JSON.stringify(posted.body)}`);
  await service.jobs.idle();
  return (await getJson(service, token, `/api/v2/jobs/${posted.body.id}`)).body;
}
