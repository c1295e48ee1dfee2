import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TestService } from '../support/local-service.js';

export interface ApiResult {
  status: number;
  body: any;
  text: string;
}

/**
 * Calls the service over real HTTP as if through API Gateway at `https://<host>/`: the request
 * goes to the plain-http listener with the forwarded scheme and host, so `host` picks the
 * tenant (domain mapping) and the issuer. Every answer's text is kept in `seen` for the
 * secret scans.
 */
export function managementApi(service: TestService, seen: string[] = []) {
  async function call(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; rawBody?: string; contentType?: string; host?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResult> {
    const headers: Record<string, string> = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': opts.host ?? service.domain,
      ...opts.headers,
    };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await fetch(`${service.url}${path}`, { method, headers, body });
    const text = await res.text();
    seen.push(text);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed as any, text };
  }

  /** A Management API token from the client_credentials grant, for the issuer of `host`. */
  async function token(client: { client_id: string; client_secret: string }, host = service.domain, scope?: string): Promise<string> {
    const res = await fetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https', 'x-forwarded-host': host },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        audience: `https://${host}/api/v2/`,
        ...(scope ? { scope } : {}),
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`no management token: ${res.status}`);
    return body.access_token;
  }

  return { call, token, seen };
}

/** Every item of the table, sorted, as text: compared before and after refused requests. */
export async function tableSnapshot(service: TestService): Promise<string[]> {
  const items: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const res = await service.deps.db.send(new ScanCommand({ TableName: service.deps.tableName, ExclusiveStartKey: startKey }));
    for (const item of res.Items ?? []) items.push(JSON.stringify(item));
    startKey = res.LastEvaluatedKey;
  } while (startKey);
  return items.sort();
}
