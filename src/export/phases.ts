import type { Phases } from "../model/result.js";
import type { PhaseName } from "./names.js";

/** Each phase's mark in the result: milliseconds from the request's start to the end of that phase. */
const MARKS: readonly (readonly [PhaseName, keyof Phases])[] = [
  ["dns", "dnsMs"],
  ["connect", "connectMs"],
  ["tls", "tlsMs"],
  ["send", "requestSentMs"],
  ["wait", "ttfbMs"],
  ["receive", "bodyEndMs"],
];

/**
 * The time spent in each phase alone, from the cumulative marks of a result. A phase that did not
 * happen (a reused connection has no dns, connect or tls) is left out, not reported as zero.
 */
export function phaseDurations(phases: Phases | null | undefined): [PhaseName, number][] {
  if (!phases) return [];
  const durations: [PhaseName, number][] = [];
  let previous = 0;
  for (const [name, key] of MARKS) {
    const mark = phases[key];
    if (mark === null) continue;
    durations.push([name, Math.max(0, mark - previous)]);
    previous = Math.max(previous, mark);
  }
  return durations;
}
