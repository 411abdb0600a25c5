/**
 * The probe's classification detail, counted: how many results carried each flag and each body
 * error. It tells a vendor manager which answers may not have been the provider's API at all
 * (an edge block, a redirect loop) before a figure is disputed.
 */
import {
  FAILURE_REASONS,
  type FailureReason,
  type ProbeResult,
  RESULT_FLAGS,
  type ResultFlag,
} from "../model/index.js";
import { formatCount } from "./format.js";

/**
 * The flags a report counts: client_side marks a merchant request (source traffic) that its own
 * client failed, which is excluded as merchant_side and shown among the automatic exclusions.
 */
type CountedFlag = Exclude<ResultFlag, "client_side">;
export const COUNTED_FLAGS = RESULT_FLAGS.filter((f): f is CountedFlag => f !== "client_side");

/** Every known flag and body error as a key, zeros included, so that the JSON shape never varies. */
export interface ClassificationCounts {
  readonly result_flags: Readonly<Record<CountedFlag, number>>;
  readonly body_errors: Readonly<Record<FailureReason, number>>;
}

/** Counts flags and body errors of the results it is shown. */
export class ClassificationTally {
  readonly #flags = new Map<CountedFlag, number>();
  readonly #bodyErrors = new Map<FailureReason, number>();

  add(result: Pick<ProbeResult, "flags" | "bodyError">): void {
    for (const flag of result.flags ?? []) {
      if (flag !== "client_side") this.#flags.set(flag, (this.#flags.get(flag) ?? 0) + 1);
    }
    const reason = result.bodyError;
    if (reason) this.#bodyErrors.set(reason, (this.#bodyErrors.get(reason) ?? 0) + 1);
  }

  counts(): ClassificationCounts {
    const countOf = <K extends string>(keys: readonly K[], seen: ReadonlyMap<K, number>) =>
      Object.fromEntries(keys.map((k) => [k, seen.get(k) ?? 0])) as Record<K, number>;
    return {
      result_flags: countOf(COUNTED_FLAGS, this.#flags),
      body_errors: countOf(FAILURE_REASONS, this.#bodyErrors),
    };
  }
}

/** What a vendor manager should check for each flag, in one sentence from a count. */
const FLAG_NOTES: Record<CountedFlag, (n: number) => string> = {
  edge_block: (n) =>
    `${plural(n, "answer", "answers")} looked like an edge block (403 without Klarna's error body): check IP allow-lists or the CDN before disputing.`,
  redirect_limit: (n) =>
    `${plural(n, "answer was", "answers were")} still redirecting at the redirect limit (a loop, typically): check the probe's path and the target's base URL before disputing.`,
  body_capped: (n) =>
    `${plural(n, "body was", "bodies were")} longer than max_body_bytes and cut short: raise the cap if error codes or correlation ids are missing.`,
  // Excluded automatically, so never among the counted requests: see automatic_exclusions.
  agent_error: (n) =>
    `${plural(n, "request", "requests")} failed inside the agent and were excluded (see automatic exclusions).`,
};

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** "timeout ×2, reset ×1": most frequent first, then in FAILURE_REASONS order. */
function bodyErrorList(counts: ClassificationCounts): { total: number; list: string } {
  const seen = FAILURE_REASONS.map((reason) => ({ reason, n: counts.body_errors[reason] })).filter(
    (x) => x.n > 0,
  );
  seen.sort((a, b) => b.n - a.n);
  const total = seen.reduce((sum, x) => sum + x.n, 0);
  return { total, list: seen.map((x) => `${x.reason} ×${x.n}`).join(", ") };
}

/** One plain sentence per non-zero count, flags first; none when every count is zero. */
export function classificationNotes(counts: ClassificationCounts): string[] {
  const notes = COUNTED_FLAGS.filter((flag) => counts.result_flags[flag] > 0).map((flag) =>
    FLAG_NOTES[flag](counts.result_flags[flag]),
  );
  const { total, list } = bodyErrorList(counts);
  if (total > 0)
    notes.push(
      `${plural(total, "response", "responses")} broke off after the headers arrived (${list}): the status stands and counts as given; a body cut short points at the network path first, so check it before raising these with the provider.`,
    );
  return notes;
}
