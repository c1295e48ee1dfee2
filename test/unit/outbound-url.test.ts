import { describe, expect, it } from 'vitest';
import { checkOutboundCall, checkOutboundUrl, classifyAddress, guardOutboundFetch } from '../../lambdas/http/outbound-url.js';

const inAws = { allowLoopback: false };
const locally = { allowLoopback: true };

describe('outbound URLs', () => {
  it.each([
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
    'https://192.168.1.1/',
    'https://172.16.5.4/',
    'https://100.64.0.1/',
    'https://0.0.0.0/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://metadata/',
    'https://intranet/',
  ])('%s is refused, in AWS and locally', (url) => {
    expect(checkOutboundUrl(url, inAws).ok).toBe(false);
    expect(checkOutboundUrl(url, locally).ok).toBe(false);
  });

  it('loopback (localhost:22, 127.0.0.1, [::1]) is refused in AWS and allowed locally, where plain http is allowed only to it', () => {
    for (const url of ['https://localhost:22/', 'http://127.0.0.1:4000/oauth/token', 'https://[::1]/']) {
      expect(checkOutboundUrl(url, inAws).ok).toBe(false);
      expect(checkOutboundUrl(url, locally).ok).toBe(true);
    }
    expect(checkOutboundUrl('http://tenant.auth0.com/', locally).ok).toBe(false);
  });

  it('public hosts and addresses pass', () => {
    expect(checkOutboundUrl('https://tenant.eu.auth0.com/oauth/token', inAws)).toEqual({ ok: true });
    expect(checkOutboundUrl('https://8.8.8.8/', inAws)).toEqual({ ok: true });
    expect(classifyAddress('2606:4700::1111')).toBe('public');
  });

  it('at call time every resolved address is checked: a public name resolving to a private address is refused', async () => {
    const rebinding = async () => [{ address: '93.184.216.34' }, { address: '10.1.2.3' }];
    expect(await checkOutboundCall('https://hooks.example.com/pre', inAws, rebinding)).toEqual({ ok: false, reason: 'private_address' });
    const mapped = async () => [{ address: '::ffff:169.254.169.254' }];
    expect((await checkOutboundCall('https://hooks.example.com/pre', locally, mapped)).ok).toBe(false);
    const fine = async () => [{ address: '93.184.216.34' }];
    expect(await checkOutboundCall('https://hooks.example.com/pre', inAws, fine)).toEqual({ ok: true });
  });

  it('the guarded fetch refuses before any request and never follows redirects', async () => {
    const seen: (RequestInit | undefined)[] = [];
    const inner = (async (_url: unknown, init?: RequestInit) => {
      seen.push(init);
      return new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } });
    }) as typeof fetch;
    const guarded = guardOutboundFetch(inner, inAws, async () => [{ address: '10.0.0.9' }]);
    await expect(guarded('https://hooks.example.com/x')).rejects.toThrow(/private_address/);
    expect(seen).toHaveLength(0);
    const open = guardOutboundFetch(inner, inAws, async () => [{ address: '93.184.216.34' }]);
    const res = await open('https://hooks.example.com/x', { redirect: 'follow' });
    expect(res.status).toBe(302);
    expect(seen[0]?.redirect).toBe('manual');
  });
});
