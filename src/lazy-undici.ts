type Undici = typeof import("undici");

/**
 * undici, loaded on first use by the commands that seldom need it (`report --prometheus`, a TSA
 * request), not when they start. Node's `await import()` of a CommonJS module gives its exports
 * both by name and as `default`; in the esbuild bundle (scripts/build.mjs) a lazily imported
 * CommonJS module has `default` only, so that is what this reads.
 */
export async function lazyUndici(): Promise<Undici> {
  const loaded = (await import("undici")) as Undici & { default?: Undici };
  return loaded.default ?? loaded;
}
