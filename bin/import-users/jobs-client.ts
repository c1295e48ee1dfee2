/** The calls `import-users` makes to a running service: token, connection lookup, import jobs. */
import { connectManagementApi, ManagementCallError } from '../import-tenant/management-client.js';

/** A failed call to the service: its HTTP status and a one-line message. */
export { ManagementCallError as ImportCallError };

export interface JobState {
  id: string;
  status: 'pending' | 'processing' | 'completed' | 'failed';
  summary?: { inserted: number; updated: number; failed: number; total: number };
}

export async function connectJobsApi(p: { base: string; clientId: string; clientSecret: string; fetch?: typeof fetch }) {
  const base = p.base.replace(/\/+$/, '');
  const api = await connectManagementApi({ ...p, base });

  return {
    async connectionId(name: string): Promise<string> {
      const list = (await api.get(`connections?name=${encodeURIComponent(name)}`)) as { id: string; name: string }[];
      const found = list.find((c) => c.name === name);
      if (!found) throw new ManagementCallError(404, `no connection named "${name}" on ${base}`);
      return found.id;
    },
    async startImport(p: { users: string; connectionId: string; upsert: boolean; externalId: string }): Promise<JobState> {
      const form = new FormData();
      form.set('users', new Blob([p.users], { type: 'application/json' }), 'users.json');
      form.set('connection_id', p.connectionId);
      form.set('upsert', String(p.upsert));
      form.set('external_id', p.externalId);
      form.set('send_completion_email', 'false');
      // The service allows two active import jobs per tenant (Auth0's limit): another run's jobs
      // answer 429 until one ends, so wait and ask again.
      for (let attempt = 0; ; attempt++) {
        try {
          return (await api.postForm('jobs/users-imports', form)) as JobState;
        } catch (err) {
          if (!(err instanceof ManagementCallError) || err.status !== 429 || attempt >= 120) throw err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    },
    getJob: async (id: string) => (await api.get(`jobs/${id}`)) as JobState,
    async jobErrors(id: string): Promise<unknown[]> {
      const errors = await api.get(`jobs/${id}/errors`);
      return Array.isArray(errors) ? errors : [];
    },
  };
}

export type JobsApi = Awaited<ReturnType<typeof connectJobsApi>>;
