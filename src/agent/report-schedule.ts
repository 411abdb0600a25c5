import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentAlerting, AlertNotification } from "../alerts/index.js";
import type { Clock } from "../clock/clock.js";
import type { ReportSchedule, SloConfig } from "../model/config.js";
import { type EpochMs, HOUR_MS, monthInterval, monthOf } from "../model/time.js";
import type { EvidenceStore } from "../record/index.js";
import {
  DELIVERY_MANIFEST,
  deliveryDir,
  type MonthlyDelivery,
  writeMonthlyDelivery,
} from "../reports/monthly-delivery.js";
import type { Logger } from "./log.js";

export interface ReportSchedulerOptions {
  readonly dataDir: string;
  readonly log: Logger;
  /** Writes the month's report and bundle; null when the store holds no record of that month. */
  readonly deliver: (month: string, formats: ReportSchedule["formats"]) => Promise<MonthlyDelivery | null>;
  /** Whether the month's notice is queued already (a crash between queueing and its marker). */
  readonly announced: (month: string) => boolean;
  /** Queues the notice for the schedule's receivers; throws when the store cannot take it now. */
  readonly announce: (delivery: MonthlyDelivery, receivers: readonly string[]) => void;
  /** A month delivered and announced (at start: the newest one found). */
  readonly onSuccess: (writtenAt: EpochMs) => void;
}

/** Marks a delivery whose notice is queued: the receivers are told once, across restarts too. */
const ANNOUNCED_MARKER = "announced";
/** A failed delivery is tried again this long after. */
const RETRY_MS = HOUR_MS;

/**
 * `reports.schedule`: from its day of each month on (UTC), last month's final report and bundle are
 * written under DATA_DIR/reports/YYYY-MM/ and the schedule's receivers told, once. The directory
 * (complete, or absent) says whether the month was written, a marker in it whether it was announced,
 * so a restart neither writes nor announces a month twice; an agent that was down on the day
 * catches up when it starts.
 */
export class ReportScheduler {
  readonly #options: ReportSchedulerOptions;
  readonly #done = new Set<string>();
  readonly #failedAt = new Map<string, EpochMs>();
  #running: Promise<void> | null = null;

  constructor(options: ReportSchedulerOptions) {
    this.#options = options;
    const newest = newestDelivery(options.dataDir);
    if (newest !== null) options.onSuccess(newest);
  }

  /** At each refresh: starts the due month's delivery, unless one runs or it is done. */
  tick(schedule: ReportSchedule | undefined, now: EpochMs): void {
    if (schedule === undefined || this.#running !== null) return;
    const month = dueMonth(schedule.day, now);
    if (month === null || this.#done.has(month)) return;
    const failed = this.#failedAt.get(month);
    if (failed !== undefined && now - failed < RETRY_MS) return;
    this.#running = this.#run(month, schedule, now).finally(() => {
      this.#running = null;
    });
  }

  /** Resolves when no delivery is running. */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #run(month: string, schedule: ReportSchedule, now: EpochMs): Promise<void> {
    const { dataDir, log } = this.#options;
    const dir = deliveryDir(dataDir, month);
    try {
      let delivery = readDelivery(dir);
      if (delivery === null) {
        delivery = await this.#options.deliver(month, schedule.formats);
        if (delivery === null) {
          log("info", `scheduled report: no record of ${month} in the evidence store; nothing to report`);
          this.#done.add(month);
          return;
        }
        log("info", `scheduled report: wrote ${month}'s report and bundle`, {
          dir,
          files: delivery.files.join(","),
        });
      }
      if (!existsSync(join(dir, ANNOUNCED_MARKER))) {
        if (!this.#options.announced(month)) this.#options.announce(delivery, schedule.receivers);
        writeFileSync(join(dir, ANNOUNCED_MARKER), `${new Date(now).toISOString()}\n`);
      }
      this.#done.add(month);
      this.#failedAt.delete(month);
      this.#options.onSuccess(delivery.writtenAt);
    } catch (error) {
      this.#failedAt.set(month, now);
      log("error", `scheduled report: ${month} failed; tried again in an hour`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** Last month, once `day` of this month (UTC) has come; null before it. */
export function dueMonth(day: number, now: EpochMs): string | null {
  const date = new Date(now);
  if (date.getUTCDate() < day) return null;
  return monthOf(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) - 1);
}

function readDelivery(dir: string): MonthlyDelivery | null {
  const file = join(dir, DELIVERY_MANIFEST);
  if (!existsSync(file)) return null;
  const m = JSON.parse(readFileSync(file, "utf8")) as {
    month: string;
    written_at: string;
    files: string[];
    verified: boolean;
    missed: string[];
  };
  return {
    month: m.month,
    writtenAt: Date.parse(m.written_at),
    dir,
    files: m.files,
    verified: m.verified,
    missed: m.missed,
  };
}

/** When the newest delivery under DATA_DIR/reports was written; null without one. */
function newestDelivery(dataDir: string): EpochMs | null {
  const root = join(dataDir, "reports");
  if (!existsSync(root)) return null;
  const months = readdirSync(root)
    .filter((name) => /^\d{4}-\d{2}$/.test(name))
    .sort();
  for (const month of months.reverse()) {
    const delivery = readDelivery(join(root, month));
    if (delivery !== null) return delivery.writtenAt;
  }
  return null;
}

export interface ScheduledReportsSetup {
  readonly dataDir: string;
  readonly store: EvidenceStore;
  /** The configuration in force (a reload may change the schedule). */
  readonly config: () => SloConfig;
  readonly alerting: AgentAlerting;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onSuccess: (writtenAt: EpochMs) => void;
}

/** The daemon's scheduler: reports from its store, notices through its alerting's queue. */
export function scheduleReports(setup: ScheduledReportsSetup): ReportScheduler {
  const { store, alerting, clock, log } = setup;
  return new ReportScheduler({
    dataDir: setup.dataDir,
    log,
    deliver: async (month, formats) => {
      const { start, end } = monthInterval(month);
      if (!hasAny(store.results({ from: start, to: end }))) return null;
      return writeMonthlyDelivery({
        config: setup.config(),
        store,
        dataDir: setup.dataDir,
        month,
        formats,
        now: clock.now(),
        warn: (line) => log("warn", line),
      });
    },
    announced: (month) => alerting.announced(noticeKey(month)),
    announce: (delivery, receivers) => {
      const { agent, sla } = setup.config();
      alerting.announce(
        reportNotice(delivery, { region: agent.region, provider: sla.provider }, clock.now()),
        receivers,
      );
    },
    onSuccess: setup.onSuccess,
  });
}

/** Whether there is a first item; the iteration is closed (a store's cursor is released). */
function hasAny(items: Iterable<unknown>): boolean {
  for (const _ of items) return true;
  return false;
}

/** The key a month's notice is queued under. */
export function noticeKey(month: string): string {
  return `report\u0000${month}`;
}

/** The notice the receivers get: an `info` notification naming the month, what was missed and where the files are. */
export function reportNotice(
  delivery: MonthlyDelivery,
  identity: { readonly region: string; readonly provider: string },
  now: EpochMs,
): AlertNotification {
  const labels = {
    alertname: "SLOMonthlyReport",
    category: "all",
    service_class: "all",
    region: identity.region,
    severity: "info",
    month: delivery.month,
  };
  const outcome =
    delivery.missed.length === 0 ? "every objective met" : `objectives missed: ${delivery.missed.join(", ")}`;
  return {
    key: noticeKey(delivery.month),
    status: "firing",
    reminder: false,
    labels,
    annotations: {
      summary: `The ${identity.provider} SLA report for ${delivery.month} is written: ${outcome}${delivery.verified ? "" : " (evidence UNVERIFIED)"}`,
      description: `In ${delivery.dir} on the agent: ${delivery.files.join(", ")}. The claim, if any, is sent with the bundle (docs/report.md).`,
    },
    startsAt: now,
    endsAt: null,
    at: now,
  };
}
