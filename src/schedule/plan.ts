import type { ProbeId, ProbeSchedule, ProbeSpec } from "../model/config.js";
import type { EpochMs } from "../model/time.js";
import { type CronPlan, nextCronFire, parseCron } from "./cron.js";

/** When one probe fires: the next planned instant strictly after a given one. */
export interface FirePlan {
  readonly probe: ProbeId;
  /** Stable offset within the interval (every:), 0 for cron. */
  readonly offsetMs: number;
  next(after: EpochMs): EpochMs;
}

/**
 * Offsets that spread probes sharing an interval evenly across it, so that thirteen probes
 * "every: 30s" do not all fire at :00. Ordered by probe id, so a restart with the same
 * configuration keeps every probe in its slot.
 */
export function spreadOffsets(probes: readonly Pick<ProbeSpec, "id" | "schedule">[]): Map<ProbeId, number> {
  const byInterval = new Map<number, ProbeId[]>();
  for (const p of probes) {
    if (p.schedule.kind !== "every") continue;
    const ids = byInterval.get(p.schedule.intervalMs) ?? [];
    ids.push(p.id);
    byInterval.set(p.schedule.intervalMs, ids);
  }
  const offsets = new Map<ProbeId, number>();
  for (const [interval, ids] of byInterval) {
    ids.sort();
    ids.forEach((id, i) => {
      offsets.set(id, Math.floor((i * interval) / ids.length));
    });
  }
  return offsets;
}

export function firePlanFor(probe: ProbeId, schedule: ProbeSchedule, offsetMs: number): FirePlan {
  if (schedule.kind === "every") {
    const interval = schedule.intervalMs;
    if (!(interval > 0)) throw new RangeError(`probe ${probe}: interval must be positive, got ${interval}`);
    return {
      probe,
      offsetMs,
      // Slots are anchored to the epoch (like Prometheus scrapes), so they do not depend on start time.
      next: (after) => (Math.floor((after - offsetMs) / interval) + 1) * interval + offsetMs,
    };
  }
  const plan: CronPlan = parseCron(schedule.expression);
  return { probe, offsetMs: 0, next: (after) => nextCronFire(plan, after) };
}

/** Fire plans for every probe, with the spreading offsets applied. */
export function firePlansFor(probes: readonly ProbeSpec[]): Map<ProbeId, FirePlan> {
  const offsets = spreadOffsets(probes);
  return new Map(probes.map((p) => [p.id, firePlanFor(p.id, p.schedule, offsets.get(p.id) ?? 0)]));
}
