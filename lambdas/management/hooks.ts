import * as z from 'zod/mini';
import { secretNames } from '../secrets/secret-store.js';
import { randomAlnum } from '../store/defaults.js';
import { keys } from '../store/keys.js';
import type { HookRecord } from '../store/records.js';
import type { Deps } from '../deps.js';
import {
  assertOutboundUrl,
  created,
  currentConfig,
  noContent,
  nowIso,
  ok,
  type ManagementEndpoint,
  type ManagementRequest,
} from './endpoint.js';
import { managementErrors, writeExisting, writeNew } from './errors.js';
import { boolString, listBody, pagingOf, pagingQuery, parseBody, parseQuery, pathParam, selectFields, text } from './request.js';

export const HOOK_ID = /^hk_[A-Za-z0-9]{16}$/;
const DEFAULT_TIMEOUT_MS = 2000;
const trigger = z.enum(['pre-user-registration', 'post-user-registration']);

const createSchema = z.strictObject({
  name: text(128),
  trigger,
  url: z.string().check(z.maxLength(2048)),
  enabled: z.optional(z.boolean()),
  timeout_ms: z.optional(z.number().check(z.int(), z.gte(100), z.lte(10_000))),
  secret: z.string().check(z.minLength(16), z.maxLength(512)),
});
const patchSchema = z.partial(z.omit(createSchema, { trigger: true }));
const listQuery = z.strictObject({ ...pagingQuery, enabled: z.optional(boolString), trigger: z.optional(trigger) });

/** A hook as the API shows it: never the secret or where it is kept. */
export function hookView(h: HookRecord) {
  const { secret_ref: _ref, ...rest } = h;
  return rest;
}

async function findHook(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>): Promise<HookRecord> {
  const id = pathParam(req.event, 'id', HOOK_ID);
  const hook = (await currentConfig(req)).hooks.find((h) => h.id === id);
  if (!hook) throw managementErrors.notFound('inexistent_hook', 'The hook does not exist');
  return hook;
}

export const hookEndpoints = {
  list: {
    scopes: ['read:hooks'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      const q = parseQuery(listQuery, req.event);
      const all = (await currentConfig(req)).hooks
        .filter((h) => (q.enabled === undefined || h.enabled === q.enabled) && (!q.trigger || h.trigger === q.trigger))
        .sort((a, b) => a.created_at.localeCompare(b.created_at))
        .map((h) => selectFields(hookView(h), q.fields, q.include_fields));
      return ok(listBody('hooks', all, pagingOf(q)));
    },
  },
  get: {
    scopes: ['read:hooks'],
    async run(req: ManagementRequest<Pick<Deps, 'tenantConfigs'>>) {
      return ok(hookView(await findHook(req)));
    },
  },
  create: {
    scopes: ['create:hooks'],
    write: { description: 'Create a hook', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'config' | 'now' | 'secrets' | 'tenantConfigs'>>) {
      const body = parseBody(createSchema, req.event);
      assertOutboundUrl(req.deps, body.url, 'url');
      const id = `hk_${randomAlnum(16)}`;
      const secretRef = secretNames.hookSecret(req.ctx.tenant, id);
      await req.deps.secrets.put(secretRef, body.secret);
      const at = nowIso(req.deps);
      const record: HookRecord = {
        id,
        name: body.name,
        trigger: body.trigger,
        url: body.url,
        enabled: body.enabled ?? true,
        timeout_ms: body.timeout_ms ?? DEFAULT_TIMEOUT_MS,
        secret_ref: secretRef,
        created_at: at,
        updated_at: at,
      };
      await writeNew(req.deps.tenantConfigs.putHook(req.ctx.tenant, record, { mustNotExist: true }));
      return created(hookView(record));
    },
  },
  update: {
    scopes: ['update:hooks'],
    write: { description: 'Update a hook', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'config' | 'now' | 'secrets' | 'tenantConfigs'>>) {
      const existing = await findHook(req);
      const { secret, ...fields } = parseBody(patchSchema, req.event);
      if (fields.url !== undefined) assertOutboundUrl(req.deps, fields.url, 'url');
      if (secret !== undefined) await req.deps.secrets.put(existing.secret_ref, secret);
      const record: HookRecord = { ...existing, ...fields, updated_at: nowIso(req.deps) };
      await writeExisting(req.deps.tenantConfigs.putHook(req.ctx.tenant, record, { mustExist: true }), () => managementErrors.notFound('inexistent_hook', 'The hook does not exist'));
      return ok(hookView(record));
    },
  },
  delete: {
    scopes: ['delete:hooks'],
    write: { description: 'Delete a hook', config: true },
    async run(req: ManagementRequest<Pick<Deps, 'secrets' | 'tenantConfigs'>>) {
      const existing = await findHook(req);
      await req.deps.tenantConfigs.deleteItem(keys.hook(req.ctx.tenant, existing.id));
      await req.deps.secrets.delete(existing.secret_ref);
      return noContent();
    },
  },
} satisfies Record<string, ManagementEndpoint>;
