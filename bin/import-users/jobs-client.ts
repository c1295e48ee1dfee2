/** The calls `import-users` makes to a running service: token, connection lookup, import jobs. */
export class ImportCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ImportCallError';
  }
}

export interface JobState {
  id: string;
  status: 'pending' | 'processing' | 'completed' | 'failed';
  summary?: { inserted: number; updated: number; failed: number; total: number };
}

export async function connectJobsApi(p: { base: string; clientId: string; clientSecret: string; fetch?: typeof fetch }) {
  const base = p.base.replace(/\/+$/, '');
  const doFetch = p.fetch ?? fetch;
  const tokenRes = await doFetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: p.clientId, client_secret: p.clientSecret, audience: `${base}/api/v2/` }),
  });
  const tokenBody = (await tokenRes.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
  if (!tokenRes.ok || !tokenBody.access_token) {
    throw new ImportCallError(tokenRes.status, `no Management API token from ${base}: ${tokenBody.error_description ?? tokenRes.status}`);
  }
  const authorization = `Bearer ${tokenBody.access_token}`;

  async function call(method: string, path: string, body?: FormData): Promise<unknown> {
    const res = await doFetch(`${base}/api/v2/${path}`, { method, headers: { authorization }, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const message = (json as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
      throw new ImportCallError(res.status, `${method} /api/v2/${path.split('?')[0]}: ${message}`);
    }
    return json;
  }

  return {
    async connectionId(name: string): Promise<string> {
      const list = (await call('GET', `connections?name=${encodeURIComponent(name)}`)) as { id: string; name: string }[];
      const found = list.find((c) => c.name === name);
      if (!found) throw new ImportCallError(404, `no connection named "${name}" on ${base}`);
      return found.id;
    },
    async startImport(p: { users: string; connectionId: string; upsert: boolean; externalId: string }): Promise<JobState> {
      const form = new FormData();
      form.set('users', new Blob([p.users], { type: 'application/json' }), 'users.json');
      form.set('connection_id', p.connectionId);
      form.set('upsert', String(p.upsert));
      form.set('external_id', p.externalId);
      form.set('send_completion_email', 'false');
      return (await call('POST', 'jobs/users-imports', form)) as JobState;
    },
    getJob: async (id: string) => (await call('GET', `jobs/${id}`)) as JobState,
    async jobErrors(id: string): Promise<unknown[]> {
      const errors = await call('GET', `jobs/${id}/errors`);
      return Array.isArray(errors) ? errors : [];
    },
  };
}

export type JobsApi = Awaited<ReturnType<typeof connectJobsApi>>;
