/**
 * A seeded pseudo-random source, so that a scenario replayed with the same seed and the same
 * request sequence makes the same fault decisions (reproducible tests and benchmarks).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** True with the given probability. */
  chance(probability: number): boolean;
  /** Standard normal. */
  normal(): number;
  /** Log-normal with the given median and shape (sigma of the underlying normal). */
  logNormal(median: number, sigma: number): number;
}

/** mulberry32: tiny, fast and good enough for fault injection (not for anything secret). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    // Box-Muller; 1 - next() keeps the logarithm's argument in (0, 1].
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    chance: (probability) => probability > 0 && next() < probability,
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
  };
}
