import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import { keys } from './keys.js';

/**
 * The fleet-wide call budget of one upstream Auth0 tenant: one item per (tenant, upstream host),
 * shared by every Lambda instance, changed only by single-item conditional updates.
 *
 * It is a token bucket kept as a schedule (GCRA): `tat` is the time at which the bucket would be
 * full again. Reserving `n` calls moves `tat` on by `n × interval`; the reserved calls may be
 * made from `tat_before − burst` on, one interval apart. So the item never needs a refill step,
 * and one UpdateItem reserves a whole lease of calls.
 *
 * - `tat`: epoch ms; calls are free while `tat − burst ≤ now`. A pause (the upstream said its
 *   global limit is reached) moves it to `until + burst`, so nobody calls before `until`.
 * - `queue_at`: epoch ms; the back of the virtual queue of callers that were told to come back
 *   later (re-mints), so their Retry-After spreads them out in order instead of all at once.
 * - `ttl`: the item goes away a day after its last use.
 * - `brk_<breaker key>`: epoch ms until which that breaker is open fleet-wide (see
 *   ../migration/fleet-breakers.ts). Leases return the whole item, so instances learn the
 *   breakers' state from round trips they make anyway.
 *
 * Auth0 limits its Authentication API and its Management API separately, so an upstream has two
 * items: `BUDGET` (logins, refresh tokens, /userinfo, JWKS) and `BUDGET#MANAGEMENT` (the
 * Management API read by the whole-user copy and the signup and reset look-ups).
 */
export interface BudgetSchedule {
  /** Milliseconds between two calls at the configured rate (1000 / requests per second). */
  intervalMs: number;
  /** How far ahead of the schedule calls may run (the bucket's capacity, in ms of calls). */
  burstMs: number;
}

/** Breaker key → epoch ms until which it is open (or its half-open trial runs), as last read from the item. */
export type SharedBreakers = Record<string, number>;

export type LeaseResult =
  /** Times (epoch ms) from which each leased call may be made, in order. `queueAt`: the back of the virtual queue, as read. */
  | { ok: true; slots: number[]; tat: number; queueAt?: number; breakers?: SharedBreakers }
  /**
   * Nothing within reach (or, for a caller that yields to the queue, callers are waiting for
   * their turn): the next call would be free at `nextFreeAt`. `turnAt`: this caller's own place.
   */
  | { ok: false; nextFreeAt: number; tat: number; turnAt?: number; queueAt?: number; breakers?: SharedBreakers };

/** What the budget cost so far in this process (the flip-day bench reports it). */
export interface BudgetCost {
  /** DynamoDB requests on budget items. */
  roundTrips: number;
  /** Leases granted, and the calls they held in all. */
  leases: number;
  leasedCalls: number;
  /** Callers turned away (told when to come back). */
  refusals: number;
}

export interface UpstreamBudgetRepository {
  readonly cost: BudgetCost;
  /**
   * Leases `count` calls if the first of them can be made by `now + maxWaitMs` (negative: that
   * much capacity is kept for others). `hint` is the caller's last known `tat`, to try the likely
   * update first (one round trip in the common case). With `queueCost`, a caller that gets
   * nothing is put at the back of the virtual queue in the same round trip (`turnAt`). With
   * `single`, one request at most: the update the hint points to, and no read-back when it fails
   * (the result's `tat` is then only a lower bound). With `yieldToQueue`, nothing is leased while
   * callers told to come back are still waiting for their turn (the queue's back is after now):
   * a newcomer does not take the calls those callers were promised.
   */
  lease(
    key: BudgetKey,
    s: BudgetSchedule,
    p: { count: number; now: number; maxWaitMs: number; hint?: number; queueCost?: number; single?: boolean; yieldToQueue?: boolean },
  ): Promise<LeaseResult>;
  /** Puts a caller at the back of the virtual queue; returns when its turn comes (epoch ms) and the bucket's `tat`. */
  enqueue(key: BudgetKey, s: BudgetSchedule, p: { cost: number; now: number }): Promise<{ turnAt: number; tat: number }>;
  /** No call before `until` (epoch ms), fleet-wide; a later pause already in place is kept. */
  pauseUntil(key: BudgetKey, s: BudgetSchedule, p: { until: number; now: number }): Promise<void>;
  /**
   * Sets a breaker's open-until to `until` if it is now `expected` (without `expected`: if it is
   * absent or earlier, so opening never shortens a longer opening). When not set, returns the
   * value in place (undefined: closed), read back with a second request.
   */
  setBreaker(key: BudgetKey, breakerKey: string, p: { until: number; expected?: number; now: number }): Promise<{ set: true } | { set: false; current?: number }>;
  /** Closes a breaker if its open-until is still `expected` (its trial call succeeded). */
  closeBreaker(key: BudgetKey, breakerKey: string, p: { expected: number }): Promise<void>;
}

export interface BudgetKey {
  tenant: string;
  /** The upstream's host (`tenant.eu.auth0.com`), so every path to one upstream shares one budget. */
  upstream: string;
  /** Which of the upstream's APIs (Auth0 limits each on its own); default the Authentication API. */
  api?: UpstreamApi;
}

export type UpstreamApi = 'authentication' | 'management';

const BREAKER_PREFIX = 'brk_';

/** The breakers' open-until times among an item's attributes. */
function breakersOf(item: Record<string, unknown> | undefined): SharedBreakers {
  const out: SharedBreakers = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith(BREAKER_PREFIX) && typeof value === 'number') out[name.slice(BREAKER_PREFIX.length)] = value;
  }
  return out;
}

const DAY_SECONDS = 86_400;

export function createUpstreamBudgetRepository(client: DynamoDBDocumentClient, tableName: string): UpstreamBudgetRepository {
  const cost: BudgetCost = { roundTrips: 0, leases: 0, leasedCalls: 0, refusals: 0 };
  const db = {
    send: ((command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      cost.roundTrips += 1;
      return client.send(command);
    }) as DynamoDBDocumentClient['send'],
  };
  const ttlOf = (now: number) => Math.floor(now / 1000) + DAY_SECONDS;
  /** The Authentication API's bucket, and the Management API's beside it. */
  const keyOf = (k: BudgetKey) => {
    const key = keys.upstreamBudget(k.tenant, k.upstream);
    return k.api === 'management' ? { ...key, sk: `${key.sk}#MANAGEMENT` } : key;
  };
  const breakerName = (breakerKey: string) => `${BREAKER_PREFIX}${breakerKey}`;

  /** The bucket has a backlog (tat ≥ now): add to it if the first leased call is within reach. */
  /** The condition a caller that yields to the queue adds: nobody is waiting for a turn. */
  const queueEmpty = '(attribute_not_exists(queue_at) OR queue_at <= :now)';
  const queueAtOf = (item: Record<string, unknown> | undefined) => (typeof item?.queue_at === 'number' ? item.queue_at : undefined);

  /** The bucket has a backlog (tat ≥ now): add to it if the first leased call is within reach. */
  async function extend(k: BudgetKey, s: BudgetSchedule, p: { count: number; now: number; maxWaitMs: number; yieldToQueue?: boolean }): Promise<LeaseResult> {
    const callsCost = p.count * s.intervalMs;
    const res = await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keyOf(k),
        UpdateExpression: 'SET tat = tat + :cost, #ttl = :ttl',
        ConditionExpression: `tat >= :now AND tat <= :latest${p.yieldToQueue ? ` AND ${queueEmpty}` : ''}`,
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':cost': callsCost, ':now': p.now, ':latest': p.now + s.burstMs + p.maxWaitMs, ':ttl': ttlOf(p.now) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const tat = Number(res.Attributes?.tat);
    return { ...slotsFrom(tat - callsCost, p.count, s, tat), queueAt: queueAtOf(res.Attributes), breakers: breakersOf(res.Attributes) };
  }

  /** The bucket is idle (no item, or tat in the past): start its schedule at now. */
  async function restart(k: BudgetKey, s: BudgetSchedule, p: { count: number; now: number; maxWaitMs: number; yieldToQueue?: boolean }): Promise<LeaseResult> {
    const tat = p.now + p.count * s.intervalMs;
    const res = await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keyOf(k),
        UpdateExpression: 'SET tat = :tat, #ttl = :ttl',
        ConditionExpression: `(attribute_not_exists(tat) OR tat < :now)${p.yieldToQueue ? ` AND ${queueEmpty}` : ''}`,
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':tat': tat, ':now': p.now, ':ttl': ttlOf(p.now) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ...slotsFrom(p.now, p.count, s, tat), queueAt: queueAtOf(res.Attributes), breakers: breakersOf(res.Attributes) };
  }

  async function enqueue(k: BudgetKey, s: BudgetSchedule, p: { cost: number; now: number }) {
    const res = await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keyOf(k),
        UpdateExpression: 'SET queue_at = if_not_exists(queue_at, :now) + :cost, tat = if_not_exists(tat, :now), #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': p.now, ':cost': p.cost, ':ttl': ttlOf(p.now) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const tat = Number(res.Attributes?.tat ?? p.now);
    let turnAt = Number(res.Attributes?.queue_at ?? p.now);
    const restarted = p.cost > 0 && turnAt - p.cost <= p.now;
    if (restarted) {
      // The queue had drained: it starts again behind the bucket's own backlog.
      turnAt = Math.max(p.now, tat - s.burstMs) + p.cost;
      await db
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(k),
            UpdateExpression: 'SET queue_at = :turn',
            ConditionExpression: 'queue_at < :turn',
            ExpressionAttributeValues: { ':turn': turnAt },
          }),
        )
        .catch((err: unknown) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
    }
    return { turnAt, tat, restarted, breakers: breakersOf(res.Attributes) };
  }

  const granted = (result: LeaseResult): LeaseResult => {
    if (result.ok) {
      cost.leases += 1;
      cost.leasedCalls += result.slots.length;
    } else {
      cost.refusals += 1;
    }
    return result;
  };

  const repo: UpstreamBudgetRepository = {
    cost,
    async lease(k, s, p) {
      // `tat` never moves back, so a hint beyond reach means the lease would fail, and a hint
      // at or after now means the bucket is not idle.
      const latest = p.now + s.burstMs + p.maxWaitMs;
      const likely = p.hint === undefined || p.hint < p.now ? [restart, extend] : p.hint <= latest ? [extend] : [];
      const attempts = p.single ? likely.slice(0, 1) : likely;
      for (const attempt of attempts) {
        try {
          return granted(await attempt(k, s, p));
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
      }
      if (p.single) return granted({ ok: false, nextFreeAt: p.now, tat: Math.max(p.hint ?? p.now, p.now + s.burstMs) });
      if (p.queueCost !== undefined) {
        const { turnAt, tat, breakers, restarted } = await enqueue(k, s, { cost: p.queueCost, now: p.now });
        // Refused only for a stale hint (and, for a caller that yields to the queue, with nobody
        // ahead in it): lease after all; the place just taken is left unused.
        if (tat <= latest && attempts.length === 0 && (restarted || !p.yieldToQueue)) return repo.lease(k, s, { ...p, hint: tat, queueCost: undefined, yieldToQueue: false });
        return granted({ ok: false, nextFreeAt: Math.max(p.now, tat - s.burstMs), tat, turnAt, queueAt: turnAt, breakers });
      }
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keyOf(k), ConsistentRead: true }));
      const tat = Number(res.Item?.tat ?? p.now);
      const queueAt = queueAtOf(res.Item);
      const queueWaits = !!p.yieldToQueue && queueAt !== undefined && queueAt > p.now;
      if (tat <= latest && attempts.length === 0 && !queueWaits) return repo.lease(k, s, { ...p, hint: tat });
      return granted({ ok: false, nextFreeAt: Math.max(p.now, tat - s.burstMs), tat, queueAt, breakers: breakersOf(res.Item) });
    },

    async enqueue(k, s, p) {
      const { turnAt, tat } = await enqueue(k, s, p);
      cost.refusals += 1;
      return { turnAt, tat };
    },

    async pauseUntil(k, s, p) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(k),
            UpdateExpression: 'SET tat = :tat, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(tat) OR tat < :tat',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':tat': p.until + s.burstMs, ':ttl': ttlOf(p.now) },
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    },

    async setBreaker(k, breakerKey, p) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(k),
            UpdateExpression: 'SET #b = :until, #ttl = if_not_exists(#ttl, :ttl)',
            ConditionExpression: p.expected === undefined ? 'attribute_not_exists(#b) OR #b < :until' : '#b = :expected',
            ExpressionAttributeNames: { '#b': breakerName(breakerKey), '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':until': p.until, ':ttl': ttlOf(p.now), ...(p.expected === undefined ? {} : { ':expected': p.expected }) },
          }),
        );
        return { set: true };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keyOf(k), ConsistentRead: true }));
      return { set: false, current: breakersOf(res.Item)[breakerKey] };
    },

    async closeBreaker(k, breakerKey, p) {
      await db
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(k),
            UpdateExpression: 'REMOVE #b',
            ConditionExpression: '#b = :expected',
            ExpressionAttributeNames: { '#b': breakerName(breakerKey) },
            ExpressionAttributeValues: { ':expected': p.expected },
          }),
        )
        .catch((err: unknown) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
    },
  };
  return repo;
}

function slotsFrom(start: number, count: number, s: BudgetSchedule, tat: number): Extract<LeaseResult, { ok: true }> {
  const slots: number[] = [];
  for (let i = 0; i < count; i++) slots.push(start + i * s.intervalMs - s.burstMs);
  return { ok: true, slots, tat };
}
