import { globalAgent } from 'node:https';
import { generate } from 'selfsigned';
import { createRecordingSink, createSilentSink, type LogSink } from '../../lambdas/logs/log-sink.js';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../bin/local/server.js';

export interface TestService extends LocalServer {
  /** Every structured line the service wrote (auth events, upstream calls, errors), as JSON text. */
  logLines: string[];
  /** `host:port` of the HTTPS listener: the `domain` an Auth0 SDK is given. */
  domain: string;
  /** POSTs a form to a path and returns status and parsed JSON. */
  postForm(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

let tlsMaterial: Promise<{ key: string; cert: string }> | undefined;

/** A self-signed certificate for 127.0.0.1, trusted by this process's default HTTPS agent. */
export function testTls(): Promise<{ key: string; cert: string }> {
  tlsMaterial ??= generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  }).then((pems) => {
    const existing = globalAgent.options.ca;
    globalAgent.options.ca = [...(Array.isArray(existing) ? existing : existing ? [existing] : []), pems.cert];
    return { key: pems.private, cert: pems.cert };
  });
  return tlsMaterial;
}

async function parse(res: Response) {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  return { status: res.status, body: body as any, headers: res.headers };
}

/**
 * Starts the real local server (in-memory engine, seeded dev tenant, HTTP and HTTPS on
 * 127.0.0.1) with a recording log sink. Stop it with `close()` in afterAll.
 */
export async function startTestService(opts: LocalServerOptions & { quiet?: boolean } = {}): Promise<TestService> {
  const forward: LogSink = createSilentSink();
  const sink = createRecordingSink(forward);
  // One composition for both functions unless a test is about their separate caches: a
  // management write is then seen by the token function at once.
  const server = await startLocalServer({ sink, tls: await testTls(), config: { bcryptCost: 4 }, functions: 'one-composition', ...opts, ...(opts.sink ? {} : { sink }) });
  const url = server.url;
  return Object.assign(server, {
    logLines: sink.lines,
    domain: new URL(server.httpsUrl!).host,
    postForm: async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      parse(await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) })),
    postJson: async (path: string, body: unknown, headers: Record<string, string> = {}) =>
      parse(await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })),
  });
}

/**
 * A `fetch` for Auth0 SDKs pointed at `https://<domain>`: sends the request over plain http to
 * the same server and tells it the original scheme, as API Gateway does.
 */
export function httpsToLocalFetch(service: LocalServer): typeof fetch {
  const httpsOrigin = service.httpsUrl!;
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const target = request.url.startsWith(httpsOrigin) ? service.url + request.url.slice(httpsOrigin.length) : request.url;
    const headers = new Headers(request.headers);
    headers.set('x-forwarded-proto', 'https');
    headers.set('x-forwarded-host', new URL(httpsOrigin).host);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    return fetch(target, { method: request.method, headers, body, redirect: 'manual' });
  }) as typeof fetch;
}
