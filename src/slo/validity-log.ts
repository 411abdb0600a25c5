import type { CategoryId } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { DAY_MS, type EpochMs, isoUtc } from "../model/time.js";
import type { AutomaticReason, MeasurementProblem } from "../model/validity.js";
import type { ControlFailure, ControlTimeline } from "./controls.js";

/** One stretch of automatically excluded requests (the report's `automatic_exclusions`). */
export interface AutomaticExclusionFigures {
  readonly reason: AutomaticReason;
  readonly start: string;
  /** When its last request ended (ts + duration). */
  readonly end: string;
  readonly categories: readonly CategoryId[];
  readonly requests: number;
  /**
   * merchant_side: the failing control results; agent_error and target_unreached: the failures,
   * by detail (target_unreached: by probe and error, e.g. "payments: connect (ECONNREFUSED)").
   */
  readonly evidence: {
    readonly controls?: readonly ControlEvidence[];
    readonly failures?: readonly { readonly detail: string; readonly requests: number }[];
  };
}

export interface ControlEvidence {
  readonly control: string;
  readonly failed_results: number;
  readonly first: string;
  readonly last: string;
  readonly errors: readonly string[];
}

interface OpenEpisode {
  readonly reason: AutomaticReason;
  readonly start: EpochMs;
  lastTs: EpochMs;
  end: EpochMs;
  /** Per category: its first request's ts and its last request's end. */
  readonly categories: Map<CategoryId, { readonly from: EpochMs; to: EpochMs }>;
  requests: number;
  readonly controls: Map<string, Map<EpochMs, ControlFailure>>;
  readonly details: Map<string, number>;
  readonly probes: Set<string>;
}

/** Most distinct failure details listed per agent_error episode. */
const MAX_DETAILS = 5;

/**
 * Groups automatically excluded requests into episodes, from provider results in ts order. A
 * merchant_side episode goes on until some control answers; an agent_error episode until a
 * provider request does not fail inside the agent; a target_unreached episode until one of its
 * probes' targets answers.
 */
export class AutomaticExclusionLog {
  readonly #closed: OpenEpisode[] = [];
  readonly #open = new Map<AutomaticReason, OpenEpisode>();

  constructor(readonly controls: ControlTimeline) {}

  /** Observes a provider result with the reason it was excluded automatically (null: counted). */
  observe(result: ProbeResult, reason: AutomaticReason | null): void {
    if (reason !== "agent_error") this.#close("agent_error");
    const merchant = this.#open.get("merchant_side");
    if (merchant && this.controls.answeredBetween(merchant.lastTs, result.ts)) this.#close("merchant_side");
    const unreached = this.#open.get("target_unreached");
    if (unreached && reason !== "target_unreached" && unreached.probes.has(result.probe))
      this.#close("target_unreached");
    if (reason === null) return;
    let episode = this.#open.get(reason);
    if (!episode) {
      episode = {
        reason,
        start: result.ts,
        lastTs: result.ts,
        end: result.ts,
        categories: new Map(),
        requests: 0,
        controls: new Map(),
        details: new Map(),
        probes: new Set(),
      };
      this.#open.set(reason, episode);
    }
    episode.lastTs = result.ts;
    episode.end = Math.max(episode.end, result.ts + result.durationMs);
    const extent = episode.categories.get(result.category);
    const to = result.ts + result.durationMs;
    if (extent) extent.to = Math.max(extent.to, to);
    else episode.categories.set(result.category, { from: result.ts, to });
    episode.requests += 1;
    episode.probes.add(result.probe);
    if (reason === "merchant_side") {
      for (const failure of this.controls.failingAt(result.ts, result.probe) ?? []) {
        let seen = episode.controls.get(failure.control);
        if (!seen) {
          seen = new Map();
          episode.controls.set(failure.control, seen);
        }
        seen.set(failure.ts, failure);
      }
    } else {
      const failure = result.detail ?? result.error ?? "unknown";
      const detail =
        reason === "target_unreached"
          ? `${result.probe}: ${result.error ?? "unknown"}${result.detail ? ` (${result.detail})` : ""}`
          : failure;
      if (episode.details.has(detail) || episode.details.size < MAX_DETAILS) {
        episode.details.set(detail, (episode.details.get(detail) ?? 0) + 1);
      }
    }
  }

  /** Every episode, in order of start. */
  episodes(): AutomaticExclusionFigures[] {
    const all = [...this.#closed, ...this.#open.values()].sort((a, b) => a.start - b.start);
    return all.map(figuresOf);
  }

  /**
   * Minutes of each category inside merchant_side episodes (from each episode's first request of
   * the category to the end of its last one), to one hundredth: what the controls took off the
   * provider's account.
   */
  merchantSideMinutes(): Map<CategoryId, number> {
    const ms = new Map<CategoryId, number>();
    for (const e of [...this.#closed, ...this.#open.values()]) {
      if (e.reason !== "merchant_side") continue;
      for (const [category, { from, to }] of e.categories)
        ms.set(category, (ms.get(category) ?? 0) + to - from);
    }
    return new Map([...ms].map(([category, total]) => [category, Math.round(total / 600) / 100]));
  }

  /**
   * The same minutes per category and UTC day of the period starting at `periodStart` (day index
   * from 0), each episode's stretch cut at midnight, to one hundredth: the CSV's daily column.
   */
  merchantSideMinutesByDay(periodStart: EpochMs): Map<CategoryId, Map<number, number>> {
    const ms = new Map<CategoryId, Map<number, number>>();
    for (const e of [...this.#closed, ...this.#open.values()]) {
      if (e.reason !== "merchant_side") continue;
      for (const [category, { from, to }] of e.categories) {
        let days = ms.get(category);
        if (!days) {
          days = new Map();
          ms.set(category, days);
        }
        for (let at = from; at < to; ) {
          const day = Math.floor((at - periodStart) / DAY_MS);
          const dayEnd = Math.min(to, periodStart + (day + 1) * DAY_MS);
          days.set(day, (days.get(day) ?? 0) + dayEnd - at);
          at = dayEnd;
        }
      }
    }
    for (const days of ms.values())
      for (const [day, total] of days) days.set(day, Math.round(total / 600) / 100);
    return ms;
  }

  #close(reason: AutomaticReason): void {
    const episode = this.#open.get(reason);
    if (!episode) return;
    this.#closed.push(episode);
    this.#open.delete(reason);
  }
}

function figuresOf(e: OpenEpisode): AutomaticExclusionFigures {
  const base = {
    reason: e.reason,
    start: isoUtc(e.start),
    end: isoUtc(Math.round(e.end)),
    categories: [...e.categories.keys()].sort(),
    requests: e.requests,
  };
  if (e.reason !== "merchant_side") {
    return {
      ...base,
      evidence: { failures: [...e.details].map(([detail, requests]) => ({ detail, requests })) },
    };
  }
  const controls = [...e.controls]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([control, failures]) => {
      const times = [...failures.keys()].sort((a, b) => a - b);
      const errors = new Set([...failures.values()].map((f) => f.error ?? "none"));
      return {
        control,
        failed_results: failures.size,
        first: isoUtc(times[0]!),
        last: isoUtc(times.at(-1)!),
        errors: [...errors].sort(),
      };
    });
  return { ...base, evidence: { controls } };
}

/** One kind of measurement problem in one category (the report's `measurement_problems`). */
export interface MeasurementProblemFigures {
  readonly kind: MeasurementProblem;
  readonly requests: number;
  readonly first: string;
  readonly last: string;
}

/** Counts measurement problems per category and kind. */
export class MeasurementProblemLog {
  readonly #byCategory = new Map<
    CategoryId,
    Map<MeasurementProblem, { n: number; first: number; last: number }>
  >();

  add(category: CategoryId, kind: MeasurementProblem, ts: EpochMs): void {
    let kinds = this.#byCategory.get(category);
    if (!kinds) {
      kinds = new Map();
      this.#byCategory.set(category, kinds);
    }
    const seen = kinds.get(kind);
    if (seen) {
      seen.n += 1;
      seen.first = Math.min(seen.first, ts);
      seen.last = Math.max(seen.last, ts);
    } else kinds.set(kind, { n: 1, first: ts, last: ts });
  }

  of(category: CategoryId): MeasurementProblemFigures[] {
    const kinds = this.#byCategory.get(category);
    if (!kinds) return [];
    return [...kinds]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, s]) => ({ kind, requests: s.n, first: isoUtc(s.first), last: isoUtc(s.last) }));
  }
}
