import type { Clock, TimerHandle } from "../clock/clock.js";

export interface AccountingPacerOptions {
  readonly clock: Clock;
  /** At most one accounting this often (ms). */
  readonly everyMs: number;
  /** A number that moves whenever the accounting may read differently (Scheduler.changes). */
  readonly changes: () => number;
  /** Sends the accounting as it reads now. */
  readonly send: () => void;
}

/**
 * When the prober thread sends its run accounting (coverage, skipped runs) to the main thread:
 * only when it changed since it was last sent, at most once every `everyMs`, and then as soon as
 * it may: with the batch of results it counts (a run coming due sends its lateness, a run ending
 * its result), else on a timer for the rest of that interval, so a change no batch carries (a run
 * skipped) is sent too. On a timer every second, an idle agent's (13 probes every 30 s) two
 * threads woke each second for an unchanged accounting (issue 30).
 */
export class AccountingPacer {
  readonly #options: AccountingPacerOptions;
  #sent = -1;
  #sentAt = Number.NEGATIVE_INFINITY;
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(options: AccountingPacerOptions) {
    this.#options = options;
  }

  /** The accounting changed: it goes with the next batch, or within `everyMs`. */
  changed(): void {
    this.#arm(this.#options.everyMs);
  }

  /** A batch of results went: the accounting follows it if it changed and its interval allows. */
  batchSent(): void {
    this.#sendIfDue(false);
  }

  /** Sends a changed accounting now, whatever the interval (a reload, the last one at stop). */
  flush(): void {
    this.#sendIfDue(true);
  }

  /** No timer from now on; flush() still sends. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  #sendIfDue(now: boolean): void {
    const changes = this.#options.changes();
    const wait = this.#sentAt + this.#options.everyMs - this.#options.clock.monotonic();
    if (changes !== this.#sent && wait > 0 && !now) {
      this.#arm(wait);
      return;
    }
    this.#timer?.cancel();
    this.#timer = null;
    if (changes === this.#sent) return;
    this.#sent = changes;
    this.#sentAt = this.#options.clock.monotonic();
    this.#options.send();
  }

  #arm(waitMs: number): void {
    if (this.#stopped || this.#timer !== null) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = null;
      this.#sendIfDue(false);
    }, waitMs);
  }
}
