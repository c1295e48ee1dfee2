import { describe, expect, it } from 'vitest';
import { createBreakerRegistry } from '../../lambdas/migration/circuit-breaker.js';
import { createDeadline } from '../../lambdas/migration/deadline.js';
import {
  createUpstreamClient,
  isLoopbackHttpAllowed,
  parseRetryAfterSeconds,
} from '../../lambdas/migration/upstream-client.js';

describe('isLoopbackHttpAllowed', () => {
  it('always allows https', () => {
    expect(isLoopbackHttpAllowed('https://tenant.eu.auth0.com/oauth/token', false)).toBe(true);
    expect(isLoopbackHttpAllowed('https://tenant.eu.auth0.com/oauth/token', true)).toBe(true);
  });

  it('allows http only for loopback hosts and only when running locally', () => {
    for (const url of ['http://127.0.0.1:4000/oauth/token', 'http://127.8.9.10/x', 'http://localhost:3000/', 'http://[::1]:8080/userinfo']) {
      expect(isLoopbackHttpAllowed(url, true), url).toBe(true);
      expect(isLoopbackHttpAllowed(url, false), url).toBe(false);
    }
  });

  it('refuses http to anything that only looks like loopback', () => {
    for (const url of [
      'http://tenant.auth0.com/oauth/token',
      'http://127.0.0.1.evil.example/oauth/token',
      'http://localhost.evil.example/',
      'http://10.0.0.1/',
      'http://128.0.0.1/',
      'http://[::2]/',
    ]) {
      expect(isLoopbackHttpAllowed(url, true), url).toBe(false);
    }
  });

  it('refuses other schemes and unparseable URLs', () => {
    expect(isLoopbackHttpAllowed('ftp://127.0.0.1/', true)).toBe(false);
    expect(isLoopbackHttpAllowed('file:///etc/passwd', true)).toBe(false);
    expect(isLoopbackHttpAllowed('not a url', true)).toBe(false);
  });
});

describe('parseRetryAfterSeconds', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfterSeconds('7', now)).toBe(7);
  });
  it('reads an HTTP date relative to now, rounding up', () => {
    expect(parseRetryAfterSeconds('Wed, 01 Jan 2025 00:00:12 GMT', now)).toBe(12);
  });
  it('defaults to 1 s when absent or unreadable', () => {
    expect(parseRetryAfterSeconds(null, now)).toBe(1);
    expect(parseRetryAfterSeconds('soon', now)).toBe(1);
  });
  it('never returns a negative wait for a date in the past', () => {
    expect(parseRetryAfterSeconds('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });
});

describe('upstream client classification with an injected fetch', () => {
  const deadline = () => createDeadline(10_000);
  const refresh = (fetchImpl: typeof fetch, breakers = createBreakerRegistry({ failureThreshold: 1 })) =>
    createUpstreamClient({ fetch: fetchImpl, breakers, allowLoopbackHttp: false }).refreshToken({
      breakerKey: 'src_1',
      tokenEndpoint: 'https://tenant.example/oauth/token',
      clientId: 'cid',
      clientSecret: 'secret',
      refreshToken: 'v1.Mabc',
      deadline: deadline(),
    });

  it('classifies a fetch that throws (DNS, connection reset) as unavailable/network and counts it', async () => {
    const breakers = createBreakerRegistry({ failureThreshold: 1 });
    const result = await refresh((async () => { throw new TypeError('fetch failed'); }) as typeof fetch, breakers);
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'network' } });
    expect(breakers.check('src_1').open).toBe(true);
  });

  it('does not follow redirects: a 302 is an unexpected status', async () => {
    let seenRedirect: RequestRedirect | undefined;
    const result = await refresh((async (_url: unknown, init?: RequestInit) => {
      seenRedirect = init?.redirect;
      return new Response(null, { status: 302, headers: { location: 'http://evil.example/' } });
    }) as typeof fetch);
    expect(seenRedirect).toBe('manual');
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'unexpected_status', status: 302 } });
  });

  it('treats a 4xx without an OAuth error body as unexpected, not as a rejection', async () => {
    const result = await refresh((async () => new Response('Not Found', { status: 404 })) as typeof fetch);
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'unexpected_status', status: 404 } });
  });

  it('treats a 2xx JSON without access_token as a malformed response', async () => {
    const result = await refresh((async () => Response.json({ token_type: 'Bearer' })) as typeof fetch);
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'malformed_response', status: 200 } });
  });

  it('keeps only well-typed token fields', async () => {
    const result = await refresh((async () =>
      Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 'soon', id_token: 42, refresh_token: 'rt2' })) as typeof fetch);
    expect(result).toEqual({ ok: true, value: { access_token: 'at', token_type: 'Bearer', refresh_token: 'rt2' } });
  });

  it('sends client_secret_post form fields and omits an absent scope', async () => {
    let body = '';
    let contentType: string | null = null;
    await refresh((async (_url: unknown, init?: RequestInit) => {
      body = String(init?.body);
      contentType = new Headers(init?.headers).get('content-type');
      return Response.json({ access_token: 'at', token_type: 'Bearer' });
    }) as typeof fetch);
    expect(contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(body))).toEqual({
      grant_type: 'refresh_token',
      client_id: 'cid',
      client_secret: 'secret',
      refresh_token: 'v1.Mabc',
    });
  });
});
