/** A small Management API v2 client for `import-tenant`: client-credentials token, paging, Auth0 errors. */
export class ManagementCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ManagementCallError';
  }
}

export type ManagementClient = Awaited<ReturnType<typeof connectManagementApi>>;

/** `base` is `https://<domain>` (or a loopback `http://127.0.0.1:<port>` for a local service). */
export async function connectManagementApi(p: { base: string; clientId: string; clientSecret: string; fetch?: typeof fetch }) {
  const base = p.base.replace(/\/+$/, '');
  const doFetch = p.fetch ?? fetch;
  const tokenRes = await doFetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: p.clientId, client_secret: p.clientSecret, audience: `${base}/api/v2/` }),
  });
  const tokenBody = (await tokenRes.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
  if (!tokenRes.ok || !tokenBody.access_token) {
    throw new ManagementCallError(tokenRes.status, `no Management API token from ${base}: ${tokenBody.error_description ?? tokenRes.status}`);
  }
  const authorization = `Bearer ${tokenBody.access_token}`;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    // A form goes as multipart (fetch sets its boundary); anything else as JSON.
    const isForm = body instanceof FormData;
    const headers: Record<string, string> = { authorization, ...(body === undefined || isForm ? {} : { 'content-type': 'application/json' }) };
    const payload = body === undefined ? undefined : isForm ? body : JSON.stringify(body);
    const res = await doFetch(`${base}/api/v2/${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const message = (json as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
      throw new ManagementCallError(res.status, `${method} /api/v2/${path.split('?')[0]}: ${message}`);
    }
    return json;
  }

  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    /** A multipart/form-data POST (file uploads such as users-imports). */
    postForm: (path: string, form: FormData) => call('POST', path, form),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    /** Every item of a paged list (`include_totals` paging, 100 a page). */
    async getAll<T>(path: string, key: string): Promise<T[]> {
      const items: T[] = [];
      for (let page = 0; page < 1000; page++) {
        const sep = path.includes('?') ? '&' : '?';
        const res = (await call('GET', `${path}${sep}page=${page}&per_page=100&include_totals=true`)) as Record<string, unknown> | unknown[];
        const batch = (Array.isArray(res) ? res : (res[key] as T[] | undefined) ?? []) as T[];
        items.push(...batch);
        const total = Array.isArray(res) ? undefined : (res.total as number | undefined);
        if (batch.length < 100 || (total !== undefined && items.length >= total)) break;
      }
      return items;
    },
  };
}
