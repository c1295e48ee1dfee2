import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Bad input on the OAuth endpoints: every case is an OAuth error JSON `{error, error_description}`
 * with a 4xx status, never a 500 and never a stack trace.
 */
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());

interface BadRequest {
  name: string;
  path?: string;
  contentType?: string;
  headers?: () => Record<string, string>;
  body: () => string | Uint8Array;
  status: number;
  error: string;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const web = () => service.credentials.webClient;
const demo = () => service.credentials.demoUser;
const passwordFields = () => ({ grant_type: 'password', username: demo().email, password: 'whatever', client_id: web().client_id, client_secret: web().client_secret });
const json = 'application/json';

const cases: BadRequest[] = [
  { name: 'empty body', body: () => '', status: 400, error: 'invalid_request' },
  { name: 'missing grant_type', body: () => form({ client_id: web().client_id }), status: 400, error: 'invalid_request' },
  { name: 'missing username', body: () => form({ ...passwordFields(), username: '' }), status: 400, error: 'invalid_request' },
  { name: 'missing password', body: () => { const { password: _p, ...rest } = passwordFields(); return form(rest); }, status: 400, error: 'invalid_request' },
  { name: 'missing refresh_token', body: () => form({ grant_type: 'refresh_token', client_id: web().client_id, client_secret: web().client_secret }), status: 400, error: 'invalid_request' },
  { name: 'missing client_id', body: () => form({ grant_type: 'password', username: 'a@b.c', password: 'x' }), status: 400, error: 'invalid_request' },
  { name: 'password-realm without realm', body: () => form({ ...passwordFields(), grant_type: 'http://auth0.com/oauth/grant-type/password-realm' }), status: 400, error: 'invalid_request' },
  { name: 'unknown realm', body: () => form({ ...passwordFields(), realm: 'No-Such-Connection' }), status: 400, error: 'invalid_request' },
  { name: 'text/plain body', contentType: 'text/plain', body: () => `grant_type=password&username=a&password=b`, status: 400, error: 'invalid_request' },
  { name: 'multipart body', contentType: 'multipart/form-data; boundary=XyZ', body: () => '--XyZ\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\npassword\r\n--XyZ--\r\n', status: 400, error: 'invalid_request' },
  { name: 'no content type', contentType: '', body: () => form(passwordFields()), status: 400, error: 'invalid_request' },
  { name: 'JSON body sent as form', body: () => JSON.stringify(passwordFields()), status: 400, error: 'invalid_request' },
  { name: 'oversized form body (> 64 KB)', body: () => form({ ...passwordFields(), padding: 'x'.repeat(70 * 1024) }), status: 413, error: 'invalid_request' },
  { name: 'oversized JSON body (> 64 KB)', contentType: json, body: () => JSON.stringify({ ...passwordFields(), padding: 'x'.repeat(70 * 1024) }), status: 413, error: 'invalid_request' },
  { name: 'oversized binary body (> 64 KB)', contentType: 'application/octet-stream', body: () => new Uint8Array(70 * 1024), status: 413, error: 'invalid_request' },
  { name: 'overlong field', body: () => form({ ...passwordFields(), username: 'u'.repeat(5000) }), status: 400, error: 'invalid_request' },
  { name: 'unknown grant', body: () => form({ grant_type: 'urn:example:unknown', client_id: web().client_id }), status: 400, error: 'unsupported_grant_type' },
  { name: 'grant this endpoint does not serve', body: () => form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x', client_id: web().client_id }), status: 400, error: 'unsupported_grant_type' },
  { name: 'invalid JSON', contentType: json, body: () => '{"grant_type": "password",', status: 400, error: 'invalid_request' },
  { name: 'JSON array', contentType: json, body: () => JSON.stringify([passwordFields()]), status: 400, error: 'invalid_request' },
  { name: 'JSON string', contentType: json, body: () => '"password"', status: 400, error: 'invalid_request' },
  { name: 'JSON null', contentType: json, body: () => 'null', status: 400, error: 'invalid_request' },
  { name: 'JSON nested object field', contentType: json, body: () => JSON.stringify({ ...passwordFields(), username: { $ne: '' } }), status: 400, error: 'invalid_request' },
  { name: 'JSON array field', contentType: json, body: () => JSON.stringify({ ...passwordFields(), password: ['a', 'b'] }), status: 400, error: 'invalid_request' },
  { name: 'repeated form field', body: () => `${form(passwordFields())}&grant_type=refresh_token`, status: 400, error: 'invalid_request' },
  { name: 'malformed Basic: not base64', headers: () => ({ authorization: 'Basic !!!not-base64!!!' }), body: () => form({ grant_type: 'client_credentials' }), status: 400, error: 'invalid_request' },
  { name: 'malformed Basic: no colon', headers: () => ({ authorization: `Basic ${b64('justanid')}` }), body: () => form({ grant_type: 'client_credentials' }), status: 400, error: 'invalid_request' },
  { name: 'malformed Basic: empty id', headers: () => ({ authorization: `Basic ${b64(':secret')}` }), body: () => form({ grant_type: 'client_credentials' }), status: 400, error: 'invalid_request' },
  { name: 'malformed Basic: bad percent-encoding', headers: () => ({ authorization: `Basic ${b64('%zz:%')}` }), body: () => form({ grant_type: 'client_credentials' }), status: 400, error: 'invalid_request' },
  { name: 'Basic and client_secret in the body', headers: () => ({ authorization: `Basic ${b64(`${web().client_id}:${web().client_secret}`)}` }), body: () => form({ ...passwordFields() }), status: 400, error: 'invalid_request' },
  { name: 'Basic id differs from body client_id', headers: () => ({ authorization: `Basic ${b64(`${web().client_id}:${web().client_secret}`)}` }), body: () => form({ grant_type: 'password', username: 'a@b.c', password: 'x', client_id: 'other' }), status: 400, error: 'invalid_request' },
  { name: 'unknown client', body: () => form({ ...passwordFields(), client_id: 'no-such-client' }), status: 401, error: 'access_denied' },
  { name: 'wrong client secret', body: () => form({ ...passwordFields(), client_secret: 'wrong-secret' }), status: 401, error: 'access_denied' },
  { name: 'wrong secret via Basic', headers: () => ({ authorization: `Basic ${b64(`${web().client_id}:wrong`)}` }), body: () => form({ grant_type: 'refresh_token', refresh_token: 'x' }), status: 401, error: 'access_denied' },
  { name: 'public client asking for client_credentials', body: () => form({ grant_type: 'client_credentials', client_id: service.credentials.spaClient.client_id }), status: 401, error: 'access_denied' },
  { name: 'grant not allowed for the client', body: () => form({ grant_type: 'password', username: 'a@b.c', password: 'x', client_id: service.credentials.machineClient.client_id, client_secret: service.credentials.machineClient.client_secret }), status: 403, error: 'unauthorized_client' },
  { name: 'client_credentials not allowed for the web client', body: () => form({ grant_type: 'client_credentials', client_id: web().client_id, client_secret: web().client_secret, audience: service.credentials.api.identifier }), status: 403, error: 'unauthorized_client' },
  { name: 'garbage refresh token', body: () => form({ grant_type: 'refresh_token', refresh_token: 'garbage', client_id: web().client_id, client_secret: web().client_secret }), status: 403, error: 'invalid_grant' },
  { name: 'well-formed but unknown refresh token', body: () => form({ grant_type: 'refresh_token', refresh_token: `r1.${'A'.repeat(22)}.${'B'.repeat(22)}.${'C'.repeat(43)}.${Buffer.from(demo().user_id).toString('base64url')}`, client_id: web().client_id, client_secret: web().client_secret }), status: 403, error: 'invalid_grant' },
  { name: 'refresh token with a forged user part', body: () => form({ grant_type: 'refresh_token', refresh_token: `r1.${'A'.repeat(22)}.${'B'.repeat(22)}.${'C'.repeat(43)}.%%%`, client_id: web().client_id, client_secret: web().client_secret }), status: 403, error: 'invalid_grant' },
  { name: 'unknown audience', body: () => form({ ...passwordFields(), audience: 'https://unknown.example/' }), status: 403, error: 'access_denied' },
  { name: 'client_credentials without a grant for the audience', body: () => form({ grant_type: 'client_credentials', client_id: service.credentials.machineClient.client_id, client_secret: service.credentials.machineClient.client_secret, audience: 'https://unknown.example/' }), status: 403, error: 'access_denied' },
  { name: 'client_credentials with a scope outside the grant', body: () => form({ grant_type: 'client_credentials', client_id: service.credentials.machineClient.client_id, client_secret: service.credentials.machineClient.client_secret, audience: service.credentials.api.identifier, scope: 'write:things' }), status: 403, error: 'access_denied' },
  { name: 'revoke without token', path: '/oauth/revoke', body: () => form({ client_id: web().client_id, client_secret: web().client_secret }), status: 400, error: 'invalid_request' },
  { name: 'revoke with a wrong secret', path: '/oauth/revoke', body: () => form({ token: 'x', client_id: web().client_id, client_secret: 'wrong' }), status: 401, error: 'access_denied' },
  { name: 'revoke with a JSON array', path: '/oauth/revoke', contentType: json, body: () => '[]', status: 400, error: 'invalid_request' },
  { name: 'userinfo with a garbage bearer token', path: '/userinfo', headers: () => ({ authorization: 'Bearer not.a.jwt' }), body: () => '', status: 401, error: 'invalid_token' },
  { name: 'userinfo without Authorization', path: '/userinfo', body: () => '', status: 401, error: 'invalid_token' },
  { name: 'userinfo with Basic instead of Bearer', path: '/userinfo', headers: () => ({ authorization: `Basic ${b64('a:b')}` }), body: () => '', status: 401, error: 'invalid_token' },
];

describe('bad input on the OAuth endpoints', () => {
  it.each(cases)('$name → $status $error', async (c) => {
    const headers: Record<string, string> = { ...(c.headers?.() ?? {}) };
    const contentType = c.contentType ?? 'application/x-www-form-urlencoded';
    if (contentType) headers['content-type'] = contentType;
    const body = c.body();
    const res = await fetch(`${service.url}${c.path ?? '/oauth/token'}`, { method: 'POST', headers, body: body.length ? (body as BodyInit) : undefined });
    const text = await res.text();
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const parsed = JSON.parse(text);
    expect(parsed).toEqual(expect.objectContaining({ error: c.error, error_description: expect.any(String) }));
    expect(Object.keys(parsed).sort()).toEqual(['error', 'error_description']);
    expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|Error:|stack/i);
  });

  it('none of the cases was an unhandled error on the server side', () => {
    expect(service.logLines.filter((l) => JSON.parse(l).message === 'unhandled_error')).toEqual([]);
  });
});
