import { readdirSync, readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The highest nice value Linux gives a thread (the lowest priority). */
const LOWEST = 19;

/** This thread's id (Linux: /proc/thread-self names it), or null where the kernel does not say. */
export function ownThreadId(): number | null {
  try {
    const id = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(id) && id > 0 ? id : null;
  } catch {
    return null;
  }
}

export type PriorityOutcome =
  | { readonly ok: true; readonly threads: number; readonly proberNice: number; readonly othersNice: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Gives every thread of this process but the prober's a nice value `by` above the prober's
 * (agent.nice_other_threads; contract section 14): the main thread (evidence, /metrics,
 * summaries, reports), V8's compiler and garbage-collector helpers and libuv's pool. On a busy
 * host the kernel then runs the prober first when its response arrives, so the agent's own work
 * cannot stretch a measured duration (50 probes/s beside a test run on 2 cores: overhead p99
 * median 2.2 ms with it, 3.0 ms without, 2.1 ms for bare undici; bench/bounds.md). Threads
 * started later by the main thread inherit its value.
 *
 * By hand: Node.js has no per-thread priority of its own, but Linux keeps a nice value per
 * thread and setpriority(2) (os.setPriority) takes a thread id. Raising a priority needs a
 * privilege the agent does not have, so the prober keeps the process's own and the rest go down.
 * A prober thread started again (after it died) inherits the main thread's lowered value; the
 * rest are then lowered again, until the lowest value leaves them level with it.
 */
export function lowerOtherThreads(proberThreadId: number, by: number): PriorityOutcome {
  let threads: string[];
  let proberNice: number;
  try {
    threads = readdirSync("/proc/self/task");
    proberNice = getPriority(proberThreadId);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const othersNice = Math.min(LOWEST, proberNice + by);
  let lowered = 0;
  for (const name of threads) {
    const id = Number(name);
    if (id === proberThreadId) continue;
    try {
      if (getPriority(id) < othersNice) setPriority(id, othersNice);
      lowered++;
    } catch {
      // The thread ended between the listing and here: nothing to lower.
    }
  }
  return { ok: true, threads: lowered, proberNice, othersNice };
}
