// Seeded PRNG for the differential tests: the seed is printed, and ACL_SEED overrides it.

export interface Rng {
  readonly seed: number;
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
  };
}

/** ACL_SEED from the environment, or a fresh random seed. */
export function seedFromEnv(): number {
  const env = process.env.ACL_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n)) throw new Error(`ACL_SEED must be an integer, got "${env}"`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 0xffffffff) >>> 0;
}
