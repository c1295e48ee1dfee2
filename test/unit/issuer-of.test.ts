import { describe, expect, it } from 'vitest';
import { issuerOf, LOCAL_API_ID, type HttpEvent } from '../../lambdas/http/event.js';

const event = (apiId: string, headers: Record<string, string>, domainName = headers.host) =>
  ({ headers, requestContext: { apiId, domainName } }) as unknown as HttpEvent;

describe('issuerOf', () => {
  it('is https on the domain the request came to, with the trailing slash', () => {
    expect(issuerOf(event('abc123', { host: 'Auth.Example.com' }))).toEqual({ host: 'auth.example.com', issuer: 'https://auth.example.com/' });
  });

  it('takes the domain from API Gateway, never from a client-sent Host header', () => {
    expect(issuerOf(event('abc123', { host: 'evil.example' }, 'auth.example.com'))).toEqual({
      host: 'auth.example.com',
      issuer: 'https://auth.example.com/',
    });
  });

  it('ignores a client-sent X-Forwarded-Proto: http behind API Gateway', () => {
    expect(issuerOf(event('abc123', { host: 'auth.example.com', 'x-forwarded-proto': 'http' })).issuer).toBe('https://auth.example.com/');
  });

  it('lets the local server serve a plain-http issuer', () => {
    expect(issuerOf(event(LOCAL_API_ID, { host: '127.0.0.1:3000', 'x-forwarded-proto': 'http' })).issuer).toBe('http://127.0.0.1:3000/');
  });
});
