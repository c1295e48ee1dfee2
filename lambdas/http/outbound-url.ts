/**
 * Where the service may send requests (registration hooks, upstream endpoints, migration source
 * domains): public addresses only. Private, link-local (cloud metadata), unique-local,
 * IPv4-mapped, NAT64, multicast and reserved addresses and metadata host names are refused
 * everywhere; loopback only when running locally (test upstreams). Checked when configured
 * (`checkOutboundUrl`) and again at call time after DNS resolution (`guardOutboundFetch`), where
 * redirects are never followed.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface OutboundPolicy {
  /** Loopback hosts (and plain http to them) are allowed: the local server, never in AWS. */
  allowLoopback: boolean;
}

export type OutboundVerdict = { ok: true } | { ok: false; reason: string };

// Separate lists per family: a BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules.
const refused4 = new BlockList();
const refused6 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) refused4.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) refused6.addSubnet(net, bits, 'ipv6');

const loopback4 = new BlockList();
loopback4.addSubnet('127.0.0.0', 8, 'ipv4');
const loopback6 = new BlockList();
loopback6.addAddress('::1', 'ipv6');

/** Host names of cloud metadata services and internal zones. */
const METADATA_NAMES = /^(metadata|metadata\.google\.internal|metadata\.goog|instance-data|instance-data\.ec2\.internal)$|\.internal$/;

/** What an IP address is, for outbound purposes. */
export function classifyAddress(address: string): 'public' | 'loopback' | 'refused' {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = isIP(ip);
  if (!family) return 'refused';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // IPv4-mapped IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`) is refused whatever it maps to.
  if (type === 'ipv6' && /^::ffff:/i.test(ip)) return 'refused';
  if ((type === 'ipv4' ? loopback4 : loopback6).check(ip, type)) return 'loopback';
  return (type === 'ipv4' ? refused4 : refused6).check(ip, type) ? 'refused' : 'public';
}

function verdictOfAddress(address: string, policy: OutboundPolicy): OutboundVerdict {
  const kind = classifyAddress(address);
  if (kind === 'public' || (kind === 'loopback' && policy.allowLoopback)) return { ok: true };
  return { ok: false, reason: kind === 'loopback' ? 'loopback_address' : 'private_address' };
}

/** The check of a configured URL: https (http only to loopback, locally), no credentials, no private host. */
export function checkOutboundUrl(url: string, policy: OutboundPolicy): OutboundVerdict {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'malformed_url' };
  }
  if (parsed.username || parsed.password) return { ok: false, reason: 'credentials_in_url' };
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { ok: false, reason: 'scheme' };
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  const literal = host.replace(/^\[|\]$/g, '');
  let hostKind: 'public' | 'loopback' | 'refused' = 'public';
  if (isIP(literal)) {
    const verdict = verdictOfAddress(literal, policy);
    if (!verdict.ok) return verdict;
    hostKind = classifyAddress(literal);
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    if (!policy.allowLoopback) return { ok: false, reason: 'loopback_address' };
    hostKind = 'loopback';
  } else if (METADATA_NAMES.test(host) || !host.includes('.')) {
    return { ok: false, reason: 'internal_name' };
  }
  if (parsed.protocol === 'http:' && hostKind !== 'loopback') return { ok: false, reason: 'scheme' };
  return { ok: true };
}

export type Lookup = (hostname: string) => Promise<{ address: string }[]>;
const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The call-time check: the URL again, then every address its host resolves to. */
export async function checkOutboundCall(url: string, policy: OutboundPolicy, lookup: Lookup = systemLookup): Promise<OutboundVerdict> {
  const configured = checkOutboundUrl(url, policy);
  if (!configured.ok) return configured;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return { ok: true };
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host);
  } catch {
    return { ok: false, reason: 'dns_failure' };
  }
  if (addresses.length === 0) return { ok: false, reason: 'dns_failure' };
  for (const { address } of addresses) {
    const verdict = verdictOfAddress(address, policy);
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}

/** Raised by the guarded fetch; callers see it as a network failure. */
export class OutboundRefusedError extends TypeError {
  constructor(readonly reason: string) {
    super(`outbound request refused: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

/**
 * The service's fetch: every request is checked after DNS resolution and never follows a
 * redirect (a 3xx is returned as it is). A remaining window between this lookup and the one
 * fetch makes (DNS rebinding with a very short TTL) is narrowed, not closed.
 */
export function guardOutboundFetch(inner: typeof fetch, policy: OutboundPolicy, lookup?: Lookup): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const verdict = await checkOutboundCall(url, policy, lookup);
    if (!verdict.ok) throw new OutboundRefusedError(verdict.reason);
    return inner(input, { ...init, redirect: 'manual' });
  }) as typeof fetch;
}
