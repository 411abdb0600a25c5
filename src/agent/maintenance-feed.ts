import type { Dispatcher } from "undici";
import { request } from "undici";
import type { Clock, TimerHandle } from "../clock/clock.js";
import type { MaintenanceFeed } from "../model/config.js";
import type { FeedWindowLedger } from "../record/index.js";
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
  readonly #loggedUnmapped = new Set<string>();
  #timer: TimerHandle | null = null;
  #polling: Promise<FeedPoll> | null = null;
  #closed = false;

  constructor(options: MaintenanceFeedOptions) {
    this.#options = options;
    this.#url = `${options.feed.url}${SCHEDULED_MAINTENANCES_PATH}`;
    const shown = new URL(this.#url);
    shown.username = "";
    shown.password = "";
    this.#shownUrl = shown.href;
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

  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    await this.#polling;
  }

  async #read(): Promise<FeedPoll> {
    const { feed, clock, ledger, log } = this.#options;
    let text: string;
    try {
      text = await this.#fetch();
    } catch (error) {
      const problem = `GET ${this.#shownUrl} failed: ${(error as Error).message}`;
      log("warn", "maintenance feed: unreachable; the windows already seen are kept", { problem });
      return { ok: false, problem };
    }
    let parsed: ReturnType<typeof parseScheduledMaintenances>;
    try {
      parsed = parseScheduledMaintenances(text, feed);
    } catch (error) {
      const problem = `${this.#shownUrl}: malformed body: ${(error as Error).message}`;
      log("warn", "maintenance feed: malformed body; the windows already seen are kept", { problem });
      return { ok: false, problem };
    }
    for (const name of parsed.unmapped) {
      if (this.#loggedUnmapped.has(name)) continue;
      this.#loggedUnmapped.add(name);
      log("info", "maintenance feed: component not mapped to a category; ignored", { component: name });
    }
    for (const entry of parsed.skipped) log("warn", "maintenance feed: entry left out", { entry });
    const now = clock.now();
    const { added, changed } = ledger.observe(parsed.readings, now);
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
