import * as z from 'zod/mini';
import { randomAlnum } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { ClaimMappingRecord } from '../store/records.js';
import type { Deps } from '../deps.js';
import { created, currentConfig, noContent, ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors, writeNew } from './errors.js';
import { listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam } from './request.js';

export const CLAIM_MAPPING_ID = /^clm_[A-Za-z0-9]{16}$/;

/**
 * Declarative custom claims, for the common case that needs no code: a value of the user
 * (`app_metadata.<path>`, `user_metadata.<path>`, or `roles`, the names of the user's roles)
 * under a namespaced claim (`https://myapp.example/plan`), in access and/or id tokens.
 */
const createSchema = z.strictObject({
  source: z.string().check(
    z.maxLength(300),
    z.regex(/^(roles|(app_metadata|user_metadata)(\.[A-Za-z0-9_$-]{1,100}){1,8})$/, "Expected 'roles' or app_metadata.<path> / user_metadata.<path>"),
  ),
  claim: z.string().check(z.maxLength(300), z.regex(/^https?:\/\/[^\s\u0000-\u001f\u007f]+$/, 'Expected a namespaced claim (an http or https URL)')),
  tokens: z.optional(z.array(z.enum(['access_token', 'id_token'])).check(z.minLength(1), z.maxLength(2))),
});
const listQuery = z.strictObject({ ...pagingQuery });

export const claimMappingEndpoints = {
  list: {
    scopes: ['read:claim_mappings'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const all = [...(await currentConfig(req)).claimMappings].sort((a, b) => a.claim.localeCompare(b.claim) || a.id.localeCompare(b.id));
      return ok(listBody('claim_mappings', all, pagingOf(q)));
    },
  },
  create: {
    scopes: ['create:claim_mappings'],
    write: { description: 'Create claim mapping', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const body = parseBody(createSchema, req.event);
      const config = await currentConfig(req);
      if (config.claimMappings.some((m) => m.claim === body.claim)) {
        throw managementErrors.conflict('conflict', 'A mapping for this claim already exists');
      }
      const mapping: ClaimMappingRecord = {
        id: `clm_${randomAlnum(16)}`,
        source: body.source,
        claim: body.claim,
        tokens: [...new Set(body.tokens ?? (['access_token', 'id_token'] as const))],
      };
      await writeNew(req.deps.tenantConfigs.putClaimMapping(req.ctx.tenant, mapping, { mustNotExist: true }));
      return created(mapping);
    },
  },
  delete: {
    scopes: ['delete:claim_mappings'],
    write: { description: 'Delete claim mapping', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const id = pathParam(req.event, 'id', CLAIM_MAPPING_ID);
      if (!(await currentConfig(req)).claimMappings.some((m) => m.id === id)) {
        throw managementErrors.notFound('inexistent_claim_mapping', 'The claim mapping does not exist');
      }
      await req.deps.tenantConfigs.deleteItem(keys.claimMapping(req.ctx.tenant, id));
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
