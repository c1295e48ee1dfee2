/**
 * `/api/v2/attack-protection/brute-force-protection` and `/suspicious-ip-throttling` in Auth0's
 * shapes. PATCH merges the given fields into what is stored (Auth0 does the same), validated
 * strictly: unknown fields, out-of-range numbers and malformed allowlist entries are 400s.
 */
import * as z from 'zod/mini';
import { bruteForceProtectionOf, isIpOrCidr, suspiciousIpThrottlingOf } from '../identity/attack-protection.js';
import type { Deps } from '../deps.js';
import { currentConfig, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { parseBody, parseQuery } from './request.js';

const noQuery = z.strictObject({});

const allowlist = z
  .array(z.string().check(z.maxLength(64), z.refine(isIpOrCidr, 'Expected an IP address or a CIDR range')))
  .check(z.maxLength(100));

const bruteForcePatch = z.strictObject({
  enabled: z.optional(z.boolean()),
  shields: z.optional(z.array(z.enum(['block', 'user_notification'])).check(z.maxLength(2))),
  allowlist: z.optional(allowlist),
  mode: z.optional(z.enum(['count_per_identifier_and_ip', 'count_per_identifier'])),
  max_attempts: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
});

const stage = z.strictObject({
  max_attempts: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100_000))),
  rate: z.optional(z.number().check(z.int(), z.gte(1), z.lte(86_400_000))),
});
const suspiciousIpPatch = z.strictObject({
  enabled: z.optional(z.boolean()),
  shields: z.optional(z.array(z.enum(['block', 'admin_notification'])).check(z.maxLength(2))),
  allowlist: z.optional(allowlist),
  stage: z.optional(z.strictObject({ 'pre-login': z.optional(stage), 'pre-user-registration': z.optional(stage) })),
});

export const attackProtectionEndpoints = {
  getBruteForce: {
    scopes: ['read:attack_protection'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      parseQuery(noQuery, req.event);
      return ok(bruteForceProtectionOf(await currentConfig(req)));
    },
  },
  updateBruteForce: {
    scopes: ['update:attack_protection'],
    write: { description: 'Update brute-force protection', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const patch = parseBody(bruteForcePatch, req.event);
      const next = { ...bruteForceProtectionOf(await currentConfig(req)), ...patch };
      await req.deps.tenantConfigs.putAttackProtection(req.ctx.tenant, 'brute-force-protection', next);
      return ok(next);
    },
  },
  getSuspiciousIp: {
    scopes: ['read:attack_protection'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      parseQuery(noQuery, req.event);
      return ok(suspiciousIpThrottlingOf(await currentConfig(req)));
    },
  },
  updateSuspiciousIp: {
    scopes: ['update:attack_protection'],
    write: { description: 'Update suspicious IP throttling', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const { stage: stagePatch, ...patch } = parseBody(suspiciousIpPatch, req.event);
      const current = suspiciousIpThrottlingOf(await currentConfig(req));
      const next = {
        ...current,
        ...patch,
        stage: {
          'pre-login': { ...current.stage['pre-login'], ...stagePatch?.['pre-login'] },
          'pre-user-registration': { ...current.stage['pre-user-registration'], ...stagePatch?.['pre-user-registration'] },
        },
      };
      await req.deps.tenantConfigs.putAttackProtection(req.ctx.tenant, 'suspicious-ip-throttling', next);
      return ok(next);
    },
  },
} satisfies Record<string, ManagementEndpoint>;
