import type { ProbeResult } from "../model/result.js";
import { type AutomaticReason, controlIdOf } from "../model/validity.js";

type Count = (result: ProbeResult, reason: AutomaticReason | null) => void;

/** A result decided or committed this long ago whose other half never came is forgotten. */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * `/metrics` request counters count what the evidence store has committed: a result is counted
 * once its automatic exclusion is decided AND its batch is committed, whichever comes last. When
 * they counted at decision time, a kill -9 lost the store's last uncommitted batch (up to 200 ms
 * of results) after Prometheus had already scraped them, and no report would ever contain them.
 * A result the store refuses or drops (the disk unwritable past its buffer) is never counted.
 */
export class CommittedCounts {
  readonly #count: Count;
  /** Decided, waiting for their commit. */
  readonly #decided = new Map<string, { result: ProbeResult; reason: AutomaticReason | null; at: number }>();
  /** Committed, waiting for their decision (a provider failure waits for its controls). */
  readonly #committed = new Map<string, number>();

  constructor(count: Count) {
    this.#count = count;
  }

  decided(result: ProbeResult, reason: AutomaticReason | null, now: number): void {
    const key = keyOf(result);
    if (this.#committed.delete(key)) this.#count(result, reason);
    else this.#decided.set(key, { result, reason, at: now });
  }

  committed(results: Iterable<ProbeResult>, now: number): void {
    for (const result of results) {
      if (controlIdOf(result) !== null) continue; // controls are never counted
      const key = keyOf(result);
      const decided = this.#decided.get(key);
      if (decided) {
        this.#decided.delete(key);
        this.#count(decided.result, decided.reason);
      } else this.#committed.set(key, now);
    }
  }

  /** Forgets halves whose other half is long overdue (refused by the store, a duplicate). */
  prune(now: number): void {
    for (const [key, d] of this.#decided) if (now - d.at > FORGET_AFTER_MS) this.#decided.delete(key);
    for (const [key, at] of this.#committed) if (now - at > FORGET_AFTER_MS) this.#committed.delete(key);
  }
}

/** The store keeps whole milliseconds: a result is known by its probe and whole-ms timestamp. */
function keyOf(result: ProbeResult): string {
  return `${result.probe}\u0000${Math.floor(result.ts)}`;
}
