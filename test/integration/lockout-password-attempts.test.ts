import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { keys } from '../../lambdas/store/keys.js';
import { connectionByName } from '../../lambdas/store/tenant-config-repository.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Three strikes per (connection, identifier): the 4th attempt is refused before any password
 * check, for known and unknown identifiers alike, until a success resets the counter or the
 * window (900 s, injected clock) passes.
 */
let service: TestService;
let clock = Date.parse('2030-06-01T00:00:00Z');
const tick = (seconds: number) => {
  clock += seconds * 1000;
};
let userCount = 0;

beforeAll(async () => {
  service = await startTestService({ now: () => clock });
});
afterAll(() => service?.close());

const wrongCredentials = { status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or password.' } };
const lockedOut = {
  status: 429,
  body: { error: 'too_many_attempts', error_description: 'Your account has been blocked after multiple consecutive login attempts.' },
};

/** A fresh local user, so the counters of one test never touch another's. */
async function newUser() {
  const deps = service.deps;
  const tenant = service.credentials.tenant;
  const config = await deps.tenantConfigs.load(tenant);
  const connection = connectionByName(config!, service.credentials.connection.name)!;
  const email = `lockout-${++userCount}-${clock}@example.com`;
  const password = `Right-${userCount}-password!`;
  const created = await createUser(deps, { tenant, connection, profile: { email, email_verified: true }, password });
  if (created.outcome === 'identifier_taken') throw new Error('fresh user expected');
  return { email, password, user_id: created.user.user_id };
}

async function attempt(username: string, password: string, grant: 'password' | 'realm' = 'password') {
  const web = service.credentials.webClient;
  const res = await service.postForm('/oauth/token', {
    grant_type: grant === 'realm' ? 'http://auth0.com/oauth/grant-type/password-realm' : 'password',
    ...(grant === 'realm' ? { realm: service.credentials.connection.name } : {}),
    username,
    password,
    client_id: web.client_id,
    client_secret: web.client_secret,
    scope: 'openid',
  });
  return { status: res.status, body: res.body };
}

function eventsSince(index: number): { type: string; reason?: string; user_name?: string }[] {
  return service.logLines.slice(index).map((l) => JSON.parse(l)).filter((l) => l.message === 'auth_event');
}

describe('lockout after 3 failed password attempts', () => {
  it('a 4th attempt after 3 failures is refused with 429 too_many_attempts even with the right password (limit_wc)', async () => {
    const user = await newUser();
    const mark = service.logLines.length;
    for (let i = 0; i < 3; i++) expect(await attempt(user.email, 'wrong')).toEqual(wrongCredentials);
    expect(await attempt(user.email, user.password)).toEqual(lockedOut);
    const events = eventsSince(mark);
    expect(events.map((e) => e.type)).toEqual(['fp', 'fp', 'fp', 'limit_wc', 'limit_wc']);
    expect(events.at(-1)).toMatchObject({ type: 'limit_wc', reason: 'locked_out' });
  });

  it('an unknown identifier gets exactly the same answers as a known one, and is locked out the same way', async () => {
    const known = await newUser();
    const unknown = `nobody-${clock}@example.com`;
    const knownAnswers = [];
    const unknownAnswers = [];
    for (let i = 0; i < 4; i++) {
      knownAnswers.push(await attempt(known.email, i === 3 ? known.password : 'wrong'));
      unknownAnswers.push(await attempt(unknown, i === 3 ? known.password : 'wrong'));
    }
    expect(unknownAnswers).toEqual(knownAnswers);
    expect(unknownAnswers).toEqual([wrongCredentials, wrongCredentials, wrongCredentials, lockedOut]);
  });

  it('unknown identifiers are logged fu and known ones fp, while the responses stay identical', async () => {
    const mark = service.logLines.length;
    await attempt(`ghost-${clock}@example.com`, 'wrong');
    expect(eventsSince(mark)).toEqual([expect.objectContaining({ type: 'fu', reason: 'unknown_user' })]);
  });

  it('counts per identifier case-insensitively, across password and password-realm', async () => {
    const user = await newUser();
    await attempt(user.email.toUpperCase(), 'wrong');
    await attempt(user.email, 'wrong', 'realm');
    await attempt(` ${user.email} `, 'wrong');
    expect(await attempt(user.email, user.password, 'realm')).toEqual(lockedOut);
  });

  it("one identifier's lockout does not block another identifier", async () => {
    const locked = await newUser();
    const other = await newUser();
    for (let i = 0; i < 3; i++) await attempt(locked.email, 'wrong');
    expect((await attempt(other.email, other.password)).status).toBe(200);
  });

  it('a success resets the counter: two failures, a success, two failures still let the right password in', async () => {
    const user = await newUser();
    await attempt(user.email, 'wrong');
    await attempt(user.email, 'wrong');
    expect((await attempt(user.email, user.password)).status).toBe(200);
    await attempt(user.email, 'wrong');
    await attempt(user.email, 'wrong');
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('the block lasts for the window and lifts when the window has passed', async () => {
    const user = await newUser();
    for (let i = 0; i < 3; i++) await attempt(user.email, 'wrong');
    tick(600);
    expect(await attempt(user.email, user.password)).toEqual(lockedOut);
    tick(301);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('after the window a new series of failures starts from zero', async () => {
    const user = await newUser();
    for (let i = 0; i < 3; i++) await attempt(user.email, 'wrong');
    tick(901);
    expect(await attempt(user.email, 'wrong')).toEqual(wrongCredentials);
    expect(await attempt(user.email, 'wrong')).toEqual(wrongCredentials);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('parallel guesses cannot pass the limit: of 20 wrong guesses at once at most 3 are checked', async () => {
    const user = await newUser();
    const before = service.logLines.length;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(user.email, `wrong-${i}`)));
    expect(answers.filter((a) => a.status !== 429).length).toBeLessThanOrEqual(3);
    for (const answer of answers) expect([wrongCredentials, lockedOut]).toContainEqual(answer);
    expect(eventsSince(before).filter((e) => e.type === 'fp').length).toBeLessThanOrEqual(3);
  });

  it('while 3 checks of an identifier are in flight, the right password waits and is not checked', async () => {
    const user = await newUser();
    const { tenant, connection } = service.credentials;
    const policy = { max_attempts: 3, window_seconds: 900 };
    const counter = keys.lockout(tenant, connection.id, `user:${user.user_id}`, '127.0.0.1');
    for (let i = 0; i < 3; i++) {
      await service.deps.lockouts.reserveAttempt(counter, policy, Math.floor(clock / 1000));
    }
    const before = service.logLines.length;
    expect(await attempt(user.email, user.password)).toEqual(lockedOut);
    expect(eventsSince(before).map((e) => [e.type, e.reason])).toEqual([['limit_wc', 'attempts_in_flight']]);
    await service.deps.lockouts.releaseAttempt(counter);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('concurrent wrong attempts are all counted: after a burst of 20 the right password is refused', async () => {
    const user = await newUser();
    const burst = await Promise.all(Array.from({ length: 20 }, () => attempt(user.email, 'wrong')));
    for (const answer of burst) expect([wrongCredentials, lockedOut]).toContainEqual(answer);
    expect(await attempt(user.email, user.password)).toEqual(lockedOut);
  });

  it('attempts while locked do not extend the block', async () => {
    const user = await newUser();
    for (let i = 0; i < 3; i++) await attempt(user.email, 'wrong');
    for (let i = 0; i < 5; i++) {
      tick(150);
      expect(await attempt(user.email, 'wrong')).toEqual(lockedOut);
    }
    tick(151);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });
});
