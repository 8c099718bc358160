/**
 * Weighted, sticky version choice: a request key is hashed to a bucket in [0, 10000), the same on
 * every pod and across restarts, and the bucket picks the version (canaries take the first
 * buckets, in config order; the primary the rest). Requests without a key draw a random bucket.
 */
import { BUCKETS, type LabelRoute } from './routing-config.js';

/** FNV-1a over the UTF-16 code units, then murmur3's finalizer (spreads keys that differ at the end). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function bucketOf(key: string | undefined, random: () => number = Math.random): number {
  if (key === undefined || key === '') return Math.floor(random() * BUCKETS);
  return hashKey(key) % BUCKETS;
}

/** The canary version a bucket falls in, or undefined for the primary. */
export function canaryFor(route: LabelRoute, bucket: number): bigint | undefined {
  let edge = 0;
  for (const canary of route.canaries) {
    edge += canary.basisPoints;
    if (bucket < edge) return canary.version;
  }
  return undefined;
}

/**
 * Whether a request is copied to the shadow. Its own bucket (the key hashed with a suffix), so the
 * shadowed share of each version's traffic is the configured percent, whatever the canary split.
 */
export function shadowed(route: LabelRoute, key: string | undefined, random: () => number = Math.random): boolean {
  const shadow = route.shadow;
  if (!shadow || shadow.basisPoints === 0) return false;
  if (shadow.basisPoints >= BUCKETS) return true;
  const bucket = key === undefined || key === '' ? Math.floor(random() * BUCKETS) : hashKey(`${key}\u0000shadow`) % BUCKETS;
  return bucket < shadow.basisPoints;
}
