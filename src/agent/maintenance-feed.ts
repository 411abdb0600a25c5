import canonicalize from "canonicalize";
import type { Dispatcher } from "undici";
import type { Clock, TimerHandle } from "../clock/clock.js";
import type { MaintenanceFeed } from "../model/config.js";
import type { FeedReachability, FeedWindowLedger, LeftOutWindow } from "../record/index.js";
import { request } from "../undici-parts.js";
import type { Logger } from "./log.js";
import { parseScheduledMaintenances, SCHEDULED_MAINTENANCES_PATH } from "./statuspage.js";

/** A feed body larger than this is refused: a status page's list is a few kilobytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 15_000;

export interface MaintenanceFeedOptions {
  readonly feed: MaintenanceFeed;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly ledger: FeedWindowLedger;
  readonly log: Logger;
  /** Called after a reading that added or changed windows (the SLO figures must account for them). */
  readonly changed?: () => void;
}

/** How one reading of the feed went. */
export type FeedPoll =
  | { readonly ok: true; readonly windows: number; readonly added: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/**
 * Reads the Statuspage's scheduled maintenance on a schedule (the injected clock) and records each
 * window in the evidence store, with when it was first seen. A feed that is down or malformed is
 * logged and changes nothing: the windows already seen stay as they were.
 */
export class MaintenanceFeedPoller {
  readonly #options: MaintenanceFeedOptions;
  readonly #url: string;
  /** The URL as logged: without any user:password in it. */
  readonly #shownUrl: string;
  /** The feed as the evidence log and reports name it: its URL without credentials or query. */
  readonly #name: string;
  readonly #loggedUnmapped = new Set<string>();
  #timer: TimerHandle | null = null;
  #polling: Promise<FeedPoll> | null = null;
  #closed = false;
  /** Whether the latest reading succeeded; null before the first one (for /metrics). */
  #readable: boolean | null = null;
  /** Whether the log says the feed is unreadable (read at the first reading: restarts keep it). */
  #unreadable: boolean | null = null;
  /** Failed readings since this feed's latest reachability record. */
  #failedSince = 0;
  /** The entries left out as the log last recorded them (read at the first reading). */
  #recordedLeftOut: string | null = null;
  /** How many entries the latest readable reading left out; null before one (for /metrics). */
  #leftOut: number | null = null;

  constructor(options: MaintenanceFeedOptions) {
    this.#options = options;
    this.#url = `${options.feed.url}${SCHEDULED_MAINTENANCES_PATH}`;
    const shown = new URL(this.#url);
    shown.username = "";
    shown.password = "";
    this.#shownUrl = shown.href;
    this.#name = feedNameOf(options.feed.url);
  }

  /** Reads the feed now, then every `feed.everyMs`. */
  start(): void {
    const next = () => {
      if (this.#closed) return;
      void this.poll().finally(() => {
        if (!this.#closed) this.#timer = this.#options.clock.setTimeout(next, this.#options.feed.everyMs);
      });
    };
    next();
  }

  /** One reading; concurrent calls share it. */
  poll(): Promise<FeedPoll> {
    this.#polling ??= this.#read().finally(() => {
      this.#polling = null;
    });
    return this.#polling;
  }

  /** Whether the latest reading succeeded; null before the first one. */
  /** How many entries of the latest readable reading were left out; null before one. */
  get leftOut(): number | null {
    return this.#leftOut;
  }

  get readable(): boolean | null {
    return this.#readable;
  }

  /**
   * Stops reading. `stopped`: the feed is no longer read (a reload changed or removed it), so a
   * stretch of failures ends here; otherwise (the agent stopping) it carries on in the log, and
   * the failed readings not yet recorded are.
   */
  async close(options: { readonly stopped?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    await this.#polling;
    if (this.#unreadable !== true) return;
    if (options.stopped) this.#record({ state: "stopped", attempts: this.#failedSince });
    else if (this.#failedSince > 0) this.#record({ state: "unreadable", attempts: this.#failedSince });
  }

  /**
   * Notes a reading's outcome; the log gets a record when the feed's state changes (the first
   * failure after a success or with none recorded before, the first success after failures).
   */
  #reached(
    problem: string | null,
    leftOut: readonly string[] = [],
    leftOutWindows: readonly LeftOutWindow[] = [],
  ): void {
    this.#readable = problem === null;
    this.#unreadable ??= this.#options.ledger.reachabilityOf(this.#name) === "unreadable";
    if (problem === null) {
      this.#leftOut = leftOut.length;
      const listed = {
        ...(leftOut.length > 0 ? { left_out: [...leftOut] } : {}),
        ...(leftOutWindows.length > 0 ? { left_out_windows: [...leftOutWindows] } : {}),
      };
      this.#recordedLeftOut ??= canonicalize(this.#options.ledger.leftOutOf(this.#name)) ?? "";
      // A readable record also when the entries left out (or their schedules) change: the log
      // says from when each was.
      const leftOutChanged = (canonicalize(listed) ?? "") !== this.#recordedLeftOut;
      if (this.#unreadable || leftOutChanged) {
        this.#record({ state: "readable", attempts: this.#failedSince, ...listed });
        this.#recordedLeftOut = canonicalize(listed) ?? "";
      }
      this.#unreadable = false;
      return;
    }
    if (this.#unreadable) {
      this.#failedSince++;
      return;
    }
    this.#failedSince = 0;
    this.#record({ state: "unreadable", attempts: 1, problem });
    this.#unreadable = true;
  }

  #record(record: Omit<FeedReachability, "feed">): void {
    try {
      this.#options.ledger.recordReachability({ feed: this.#name, ...record }, this.#options.clock.now());
      this.#failedSince = 0;
    } catch (error) {
      this.#options.log("warn", "maintenance feed: its reachability was not recorded in the evidence log", {
        error: (error as Error).message,
      });
    }
  }

  async #read(): Promise<FeedPoll> {
    const { feed, clock, ledger, log } = this.#options;
    let text: string;
    try {
      text = await this.#fetch();
    } catch (error) {
      const problem = `GET ${this.#shownUrl} failed: ${(error as Error).message}`;
      log("warn", "maintenance feed: unreachable; the windows already seen are kept", { problem });
      this.#reached((error as Error).message);
      return { ok: false, problem };
    }
    let parsed: ReturnType<typeof parseScheduledMaintenances>;
    try {
      parsed = parseScheduledMaintenances(text, feed);
    } catch (error) {
      const problem = `${this.#shownUrl}: malformed body: ${(error as Error).message}`;
      log("warn", "maintenance feed: malformed body; the windows already seen are kept", { problem });
      this.#reached(`malformed body: ${(error as Error).message}`);
      return { ok: false, problem };
    }
    for (const name of parsed.unmapped) {
      if (this.#loggedUnmapped.has(name)) continue;
      this.#loggedUnmapped.add(name);
      log("info", "maintenance feed: component not mapped to a category; ignored", { component: name });
    }
    for (const entry of parsed.skipped) log("warn", "maintenance feed: entry left out", { entry });
    const now = clock.now();
    const { added, changed } = ledger.observe(parsed.readings, now, parsed.leftOutReadings);
    this.#reached(null, parsed.skipped, parsed.leftOutWindows);
    for (const id of added) log("info", "maintenance feed: new window first seen", { window: id });
    for (const id of changed) log("info", "maintenance feed: window changed by the provider", { window: id });
    if (added.length > 0 || changed.length > 0) this.#options.changed?.();
    return { ok: true, windows: parsed.readings.length, added };
  }

  async #fetch(): Promise<string> {
    const response = await request(this.#url, {
      dispatcher: this.#options.dispatcher,
      headers: { accept: "application/json" },
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    if (response.statusCode < 200 || response.statusCode > 299) {
      await response.body.dump();
      throw new Error(`answered ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        response.body.destroy();
        throw new Error(`body larger than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
}

/** A feed's URL as the evidence log and reports name it: no user:password, query or fragment. */
export function feedNameOf(url: string): string {
  const shown = new URL(url);
  shown.username = "";
  shown.password = "";
  shown.search = "";
  shown.hash = "";
  return shown.href;
}
