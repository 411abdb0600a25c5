import type { Clock, TimerHandle } from "../clock/clock.js";
import type { ProbeResult } from "../model/result.js";

export interface StoreHealth {
  readonly writable: boolean;
  /** Results recorded but not yet committed. */
  readonly buffered: number;
  readonly lastError: string | null;
  /** Results given up because the buffer was full while the disk was unwritable. */
  readonly droppedResults: number;
}

export interface WriteQueueOptions {
  readonly clock: Clock;
  readonly batchMs: number;
  /** A batch this large is written at once instead of waiting for the timer. */
  readonly maxBatch: number;
  readonly maxBuffered: number;
  readonly logger: (line: string) => void;
  /** Writes the whole batch in one transaction, or throws having written nothing. */
  readonly write: (batch: readonly ProbeResult[]) => void;
  /** Called before a retry after a failure, e.g. to reopen a vanished file. */
  readonly recover: (error: unknown) => void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/**
 * Batches results into transactions and rides out disk trouble: a failed write keeps the batch in
 * memory (bounded, oldest dropped first), retries with backoff, and logs once per change of state.
 */
export class WriteQueue {
  readonly #options: WriteQueueOptions;
  #pending: ProbeResult[] = [];
  #timer: TimerHandle | null = null;
  #failedAttempts = 0;
  #lastError: unknown = null;
  #lastErrorText: string | null = null;
  #dropped = 0;
  #droppingLogged = false;
  /** Set when something besides results (the run state) must be written. */
  #extraDirty = false;
  /** While an import holds the write transaction, results wait here instead of being written. */
  #paused = false;

  constructor(options: WriteQueueOptions) {
    this.#options = options;
  }

  add(result: ProbeResult): void {
    this.#pending.push(result);
    if (this.#pending.length > this.#options.maxBuffered) this.#dropOldest();
    if (this.#lastErrorText !== null) return; // the retry timer is already running
    if (this.#pending.length >= this.#options.maxBatch) this.flush();
    else this.#schedule(this.#options.batchMs);
  }

  /** Asks for a write soon even without results (run bookkeeping rides along with the batches). */
  touch(): void {
    this.#extraDirty = true;
    if (this.#lastErrorText === null) this.#schedule(this.#options.batchMs);
  }

  /** Holds writes (results keep queuing) until resume(). */
  pause(): void {
    this.#paused = true;
    this.#cancelTimer();
  }

  resume(): void {
    this.#paused = false;
    if (this.#pending.length > 0 || this.#extraDirty) this.#schedule(0);
  }

  /** Writes everything buffered now; returns whether it was written. */
  flush(): boolean {
    this.#cancelTimer();
    if (this.#paused) return false;
    if (this.#pending.length === 0 && !this.#extraDirty) return true;
    if (this.#lastErrorText !== null) {
      try {
        this.#options.recover(this.#lastError);
      } catch (error) {
        return this.#failed(error);
      }
    }
    const batch = this.#pending;
    try {
      this.#options.write(batch);
    } catch (error) {
      return this.#failed(error);
    }
    this.#pending = this.#pending.length === batch.length ? [] : this.#pending.slice(batch.length);
    this.#extraDirty = false;
    this.#succeeded(batch.length);
    return true;
  }

  health(): StoreHealth {
    return {
      writable: this.#lastErrorText === null,
      buffered: this.#pending.length,
      lastError: this.#lastErrorText,
      droppedResults: this.#dropped,
    };
  }

  stop(): void {
    this.#cancelTimer();
  }

  get buffered(): number {
    return this.#pending.length;
  }

  #failed(error: unknown): boolean {
    const text = describeWriteError(error);
    if (text !== this.#lastErrorText) {
      this.#options.logger(
        `evidence store unwritable (${text}); keeping up to ${this.#options.maxBuffered} results in memory and retrying`,
      );
    }
    this.#lastError = error;
    this.#lastErrorText = text;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failedAttempts);
    this.#failedAttempts++;
    this.#schedule(delay);
    return false;
  }

  #succeeded(written: number): void {
    if (this.#lastErrorText !== null) {
      const dropped = this.#dropped > 0 ? `; ${this.#dropped} results were dropped while it was not` : "";
      this.#options.logger(`evidence store writable again: wrote ${written} buffered results${dropped}`);
    }
    this.#lastError = null;
    this.#lastErrorText = null;
    this.#failedAttempts = 0;
    this.#droppingLogged = false;
  }

  #dropOldest(): void {
    const excess = this.#pending.length - this.#options.maxBuffered;
    this.#pending.splice(0, excess);
    this.#dropped += excess;
    if (!this.#droppingLogged) {
      this.#options.logger(
        `evidence buffer full (${this.#options.maxBuffered} results): dropping the oldest until the store is writable`,
      );
      this.#droppingLogged = true;
    }
  }

  #schedule(delayMs: number): void {
    if (this.#timer || this.#paused) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = null;
      this.flush();
    }, delayMs);
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}

/** "SQLITE_FULL: database or disk is full": the code users can search for, and SQLite's words. */
export function describeWriteError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const firstLine = error.message.split("\n")[0] ?? "";
    return typeof code === "string" ? `${code}: ${firstLine}` : firstLine;
  }
  return String(error);
}
