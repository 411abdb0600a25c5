export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface EventuallyOptions {
  /** Pause between attempts (default 100 ms). */
  readonly intervalMs?: number;
  /** More to say when it times out, such as a child process's output. */
  readonly context?: () => string;
}

/**
 * Polls `probe` until it returns a value, and resolves with it: null, undefined and false mean
 * "not yet". Fails after `timeoutMs` with `what` (and the context). The one polling helper of the
 * suites: waiting on a loopback round trip, a child process's output, a scrape, a query.
 */
export async function eventually<T>(
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const context = options.context?.();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context ? `\n${context}` : ""}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
