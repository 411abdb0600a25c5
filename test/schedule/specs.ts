import type { HttpProbeSpec, ProbeSchedule } from "../../src/model/config.js";
import { httpSpec } from "../probes/loopback.js";

/** A probe spec with only what scheduling looks at set meaningfully. */
export function probeSpec(id: string, schedule: ProbeSchedule | number): HttpProbeSpec {
  return httpSpec("/", {
    id,
    schedule: typeof schedule === "number" ? { kind: "every", intervalMs: schedule } : schedule,
    timeoutMs: 10_000,
  });
}
