/**
 * The hot-key report of a bench: runs a burst against a local service whose DynamoDB client
 * counts requests per partition key, and turns the count into a table row (the busiest key's
 * share of the burst's writes and its peak per second). Any bench can reuse it: start the
 * server with `partitionKeys: counter`, then call `hotKeyRow` once per burst.
 */
import type { PartitionKeyCounter } from '../../lambdas/store/partition-key-counter.js';
import type { BenchRow } from '../token-grants.js';
import { round } from './stats.js';

/** Hides the tenant and the random parts of a key, so rows compare between runs. */
export function keyShape(key: string): string {
  return key.replace(/^((?:gsi\d+:)?TENANT#)[^#]+/, '$1t').replace(/\|[A-Za-z0-9_-]{8,}/, '|<id>').replace(/[0-9A-HJKMNP-TV-Z]{26}/, '<ulid>');
}

/** Runs the burst with a fresh count and reports its writes. */
export async function hotKeyRow(
  counter: PartitionKeyCounter,
  burst: string,
  requests: number,
  run: () => Promise<number>,
): Promise<BenchRow> {
  counter.reset();
  const started = performance.now();
  const failed = await run();
  const seconds = (performance.now() - started) / 1000;
  const writes = counter.report('write');
  const reads = counter.report('read');
  const busiest = writes.busiest;
  return {
    burst,
    requests,
    failed,
    'req/s': round(requests / seconds, 0),
    writes: writes.total,
    'write keys': writes.distinctKeys,
    'busiest write key': busiest ? keyShape(busiest.key) : '-',
    'its share': busiest ? `${round(busiest.share * 100, 1)}%` : '-',
    'its peak/s': busiest?.peakPerSecond ?? 0,
    'its writes per request': busiest ? round(busiest.count / requests, 3) : 0,
    'next write keys': writes.top
      .slice(1, 3)
      .map((k) => `${keyShape(k.key)} ${round(k.share * 100, 1)}%`)
      .join(', '),
    'busiest read key': reads.busiest ? keyShape(reads.busiest.key) : '-',
    'read share': reads.busiest ? `${round(reads.busiest.share * 100, 1)}%` : '-',
    excepted: Object.entries(writes.excepted).map(([name, n]) => `${name}: ${n}`).join(', ') || '-',
  };
}
