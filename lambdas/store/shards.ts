/**
 * Hash-derived shard suffixes for the partition keys that every request of a tenant would
 * otherwise share (its day of logs, its users listing, its day of migration counters). One
 * partition key takes about 1,000 writes per second, so a key shared by a whole tenant caps the
 * tenant there; spread over n shards, the cap is n times higher (see docs/capacity.md).
 *
 * The counts are part of the table's layout. They may be raised (readers query every shard
 * below the count, so shards written under a smaller count are still read) but never lowered.
 */
export const shardCounts = {
  /** `TENANT#t#LOG#<day>#<n>`: auth and management events, by their log id. */
  logs: 16,
  /** `gsi1pk = TENANT#t#USERS#<n>`: the users listing, by user id. */
  usersListing: 16,
  /** `TENANT#t#MIGRATION#<day>#<n>`: migration counters, a random shard per event. */
  migrationCounters: 16,
} as const;

/** FNV-1a (32 bits) of the text, modulo `count`: stable across processes and versions. */
export function shardOf(text: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/** 0, 1, ..., count - 1. */
export const allShards = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
