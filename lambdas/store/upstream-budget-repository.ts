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
 */
export interface BudgetSchedule {
  /** Milliseconds between two calls at the configured rate (1000 / requests per second). */
  intervalMs: number;
  /** How far ahead of the schedule calls may run (the bucket's capacity, in ms of calls). */
  burstMs: number;
}

export type LeaseResult =
  /** Times (epoch ms) from which each leased call may be made, in order. */
  | { ok: true; slots: number[]; tat: number }
  /** Nothing within reach: the next call would be free at `nextFreeAt`. */
  | { ok: false; nextFreeAt: number; tat: number; turnAt?: number };

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
   * nothing is put at the back of the virtual queue in the same round trip (`turnAt`).
   */
  lease(
    key: BudgetKey,
    s: BudgetSchedule,
    p: { count: number; now: number; maxWaitMs: number; hint?: number; queueCost?: number },
  ): Promise<LeaseResult>;
  /** Puts a caller at the back of the virtual queue; returns when its turn comes (epoch ms) and the bucket's `tat`. */
  enqueue(key: BudgetKey, s: BudgetSchedule, p: { cost: number; now: number }): Promise<{ turnAt: number; tat: number }>;
  /** No call before `until` (epoch ms), fleet-wide; a later pause already in place is kept. */
  pauseUntil(key: BudgetKey, s: BudgetSchedule, p: { until: number; now: number }): Promise<void>;
}

export interface BudgetKey {
  tenant: string;
  /** The upstream's host (`tenant.eu.auth0.com`), so every path to one upstream shares one budget. */
  upstream: string;
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
  const keyOf = (k: BudgetKey) => keys.upstreamBudget(k.tenant, k.upstream);

  /** The bucket has a backlog (tat ≥ now): add to it if the first leased call is within reach. */
  async function extend(k: BudgetKey, s: BudgetSchedule, p: { count: number; now: number; maxWaitMs: number }) {
    const callsCost = p.count * s.intervalMs;
    const res = await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keyOf(k),
        UpdateExpression: 'SET tat = tat + :cost, #ttl = :ttl',
        ConditionExpression: 'tat >= :now AND tat <= :latest',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':cost': callsCost, ':now': p.now, ':latest': p.now + s.burstMs + p.maxWaitMs, ':ttl': ttlOf(p.now) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const tat = Number(res.Attributes?.tat);
    return slotsFrom(tat - callsCost, p.count, s, tat);
  }

  /** The bucket is idle (no item, or tat in the past): start its schedule at now. */
  async function restart(k: BudgetKey, s: BudgetSchedule, p: { count: number; now: number; maxWaitMs: number }) {
    const tat = p.now + p.count * s.intervalMs;
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keyOf(k),
        UpdateExpression: 'SET tat = :tat, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':tat': tat, ':now': p.now, ':ttl': ttlOf(p.now) },
      }),
    );
    return slotsFrom(p.now, p.count, s, tat);
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
      const attempts = p.hint === undefined || p.hint < p.now ? [restart, extend] : p.hint <= latest ? [extend] : [];
      for (const attempt of attempts) {
        try {
          return granted(await attempt(k, s, p));
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
      }
      if (p.queueCost !== undefined) {
        const { turnAt, tat } = await repo.enqueue(k, s, { cost: p.queueCost, now: p.now });
        if (tat <= latest && attempts.length === 0) return repo.lease(k, s, { ...p, hint: tat, queueCost: undefined });
        return granted({ ok: false, nextFreeAt: Math.max(p.now, tat - s.burstMs), tat, turnAt });
      }
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keyOf(k), ConsistentRead: true, ProjectionExpression: 'tat' }));
      const tat = Number(res.Item?.tat ?? p.now);
      if (tat <= latest && attempts.length === 0) return repo.lease(k, s, { ...p, hint: tat });
      return granted({ ok: false, nextFreeAt: Math.max(p.now, tat - s.burstMs), tat });
    },

    async enqueue(k, s, p) {
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
      if (p.cost > 0 && turnAt - p.cost <= p.now) {
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
  };
  return repo;
}

function slotsFrom(start: number, count: number, s: BudgetSchedule, tat: number): LeaseResult {
  const slots: number[] = [];
  for (let i = 0; i < count; i++) slots.push(start + i * s.intervalMs - s.burstMs);
  return { ok: true, slots, tat };
}
