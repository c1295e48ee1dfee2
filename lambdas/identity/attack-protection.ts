/**
 * The tenant's attack protection as the password check applies it: Auth0's brute-force
 * protection (strikes per user-or-identifier and client IP) and suspicious-IP throttling
 * (failed attempts per client IP across identifiers), with Auth0's shapes and this product's
 * defaults (3 strikes, the stricter number; 100 failures a day per IP).
 */
import { BlockList, isIP } from 'node:net';
import type { BruteForceProtection, SuspiciousIpThrottling, TenantSettings } from '../store/records.js';
import type { TenantConfig } from '../store/tenant-config-repository.js';

/**
 * The identifier-wide ceiling across IPs, as a multiple of `max_attempts`: distributed guessing
 * from many IPs stops there, except from the IP the user last signed in from.
 */
export const IDENTIFIER_CEILING_FACTOR = 10;

export function bruteForceProtectionOf(config: Pick<TenantConfig, 'attackProtection'> & { settings: TenantSettings }): BruteForceProtection {
  return {
    enabled: true,
    shields: ['block', 'user_notification'],
    allowlist: [],
    mode: 'count_per_identifier_and_ip',
    max_attempts: config.settings.lockout.max_attempts,
    ...config.attackProtection?.bruteForce,
  };
}

export const defaultSuspiciousIpThrottling = (): SuspiciousIpThrottling => ({
  enabled: true,
  shields: ['block', 'admin_notification'],
  allowlist: [],
  stage: {
    'pre-login': { max_attempts: 100, rate: 864_000 },
    'pre-user-registration': { max_attempts: 50, rate: 1_200 },
  },
});

export function suspiciousIpThrottlingOf(config: Pick<TenantConfig, 'attackProtection'>): SuspiciousIpThrottling {
  const stored = config.attackProtection?.suspiciousIp ?? {};
  const defaults = defaultSuspiciousIpThrottling();
  return { ...defaults, ...stored, stage: { ...defaults.stage, ...stored.stage } };
}

/** An IP (v4 or v6) or a CIDR; what an allowlist may hold. */
export function isIpOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const allowlists = new Map<string, BlockList>();

/** Whether `ip` is in the allowlist (IPs and CIDRs; IPv4-mapped IPv6 matches its IPv4 entry). */
export function isAllowlisted(allowlist: readonly string[], ip: string | undefined): boolean {
  if (!ip || allowlist.length === 0) return false;
  const cacheKey = allowlist.join(',');
  let list = allowlists.get(cacheKey);
  if (!list) {
    list = new BlockList();
    for (const entry of allowlist) {
      if (!isIpOrCidr(entry)) continue;
      const [address, bits] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(bits), type);
    }
    if (allowlists.size > 100) allowlists.clear();
    allowlists.set(cacheKey, list);
  }
  const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const type = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
  return isIP(plain) !== 0 && list.check(plain, type);
}
