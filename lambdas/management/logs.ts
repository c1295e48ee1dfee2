import * as z from 'zod/mini';
import { isValid } from 'ulid';
import type { LogFilter } from '../store/logs-repository.js';
import type { Deps } from '../deps.js';
import { ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { intString, listBody, pagingOf, pagingQuery, parseQuery, pathParam, selectFields } from './request.js';

const LOG_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Auth0 answers at most 1000 results of a search. */
const SEARCH_LIMIT = 1000;

const listQuery = z.strictObject({
  ...pagingQuery,
  q: z.optional(z.string().check(z.maxLength(1000))),
  sort: z.optional(z.enum(['date:1', 'date:-1'])),
  from: z.optional(z.string().check(z.regex(LOG_ID, 'Expected a log id'), z.refine(isValid, 'Expected a log id'))),
  take: z.optional(intString(1, 100)),
});

const TERM = /^(type|user_id):(?:"((?:[^"\\]|\\.)*)"|\(([a-z_ ]+(?: OR [a-z_]+)*)\)|([^\s"()]+))/i;

/** `q` on `type:` (one code, or `(a OR b)`) and `user_id:`, joined by whitespace or AND. */
function parseLogSearch(q: string): LogFilter {
  const filter: LogFilter = {};
  let rest = q.trim();
  while (rest.length > 0) {
    const m = TERM.exec(rest);
    if (!m) throw managementErrors.invalidQuery(`'Only type: and user_id: terms are supported' on property q.`);
    const field = m[1].toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? m[4]);
    if (field === 'type') filter.types = value.split(/\s+OR\s+/).map((v) => v.trim());
    else filter.userId = value;
    rest = rest.slice(m[0].length).replace(/^\s+(AND\s+)?/, '');
  }
  return filter;
}

export const logEndpoints = {
  list: {
    scopes: ['read:logs'],
    async run(req: ManagementRequest<Pick<Deps, 'logs' | 'now'>>) {
      const q = parseQuery(listQuery, req.event);
      const repo = req.deps.logs;
      const now = req.deps.now();
      if (q.from) {
        const events = await repo.after(req.ctx.tenant, q.from, q.take ?? 50, now);
        return ok(events.map((e) => selectFields(e, q.fields, q.include_fields)));
      }
      const paging = pagingOf({ ...q, per_page: q.per_page ?? q.take });
      const filter = q.q ? parseLogSearch(q.q) : {};
      const max = paging.includeTotals ? SEARCH_LIMIT : Math.min(SEARCH_LIMIT, (paging.page + 1) * paging.perPage);
      const events = await repo.list(req.ctx.tenant, filter, max, now, q.sort === 'date:1');
      return ok(listBody('logs', events.map((e) => selectFields(e, q.fields, q.include_fields)), paging));
    },
  },
  get: {
    scopes: ['read:logs'],
    async run(req: ManagementRequest<Pick<Deps, 'logs' | 'now'>>) {
      const id = pathParam(req.event, 'id', LOG_ID);
      const event = await req.deps.logs.get(req.ctx.tenant, id, req.deps.now());
      if (!event) throw managementErrors.notFound('inexistent_log', 'The log event does not exist');
      return ok(event);
    },
  },
} satisfies Record<string, ManagementEndpoint>;
