import { describe, expect, it } from 'vitest';
import { createUpstreamAnswerSealer, remintKeySecretName } from '../../lambdas/migration/sealed-upstream-answer.js';
import { createLocalSecretStore } from '../../lambdas/secrets/local-secret-store.js';

/** The upstream answer kept during an unfinished re-mint is encrypted with a per-tenant key. */
const answer = { access_token: 'at-123', token_type: 'Bearer', refresh_token: 'v1.upstream-successor', id_token: 'a.b.c', scope: 'openid offline_access' };

describe('sealed upstream answer', () => {
  it('round-trips, and the sealed text shows none of the tokens', async () => {
    const sealer = createUpstreamAnswerSealer(createLocalSecretStore());
    const sealed = await sealer.seal('t1', 't1/hash', answer);
    expect(sealed).not.toContain('upstream-successor');
    expect(sealed).not.toContain('at-123');
    expect(await sealer.open('t1', 't1/hash', sealed)).toEqual(answer);
  });

  it('is bound to its record and refuses tampering', async () => {
    const sealer = createUpstreamAnswerSealer(createLocalSecretStore());
    const sealed = await sealer.seal('t1', 't1/hash', answer);
    expect(await sealer.open('t1', 't1/other-hash', sealed)).toBeUndefined();
    const [v, iv, body, tag] = sealed.split('.');
    const flipped = body[0] === 'A' ? `B${body.slice(1)}` : `A${body.slice(1)}`;
    expect(await sealer.open('t1', 't1/hash', [v, iv, flipped, tag].join('.'))).toBeUndefined();
  });

  it('keeps one random key per tenant in the secret store, shared by every process', async () => {
    const store = createLocalSecretStore();
    const [one, two] = [createUpstreamAnswerSealer(store), createUpstreamAnswerSealer(store)];
    const [a, b] = await Promise.all([one.seal('t1', 'k', answer), two.seal('t1', 'k', answer)]);
    expect(await two.open('t1', 'k', a)).toEqual(answer);
    expect(await one.open('t1', 'k', b)).toEqual(answer);
    expect(Buffer.from((await store.get(remintKeySecretName('t1')))!, 'base64')).toHaveLength(32);
    const otherTenant = await one.seal('t2', 'k', answer);
    expect(await store.get(remintKeySecretName('t2'))).not.toBe(await store.get(remintKeySecretName('t1')));
    // A record of one tenant cannot be opened with another tenant's key.
    expect(await one.open('t1', 'k', otherTenant)).toBeUndefined();
  });
});
