import type { HttpProbeSpec, ProbeSchedule } from "../../src/model/config.js";

/** A probe spec with only what scheduling looks at set meaningfully. */
export function probeSpec(id: string, schedule: ProbeSchedule | number): HttpProbeSpec {
  return {
    kind: "http",
    id,
    category: "payment_request",
    target: "klarna",
    schedule: typeof schedule === "number" ? { kind: "every", intervalMs: schedule } : schedule,
    method: "GET",
    path: "/",
    headers: {},
    body: null,
    timeoutMs: 10_000,
    writes: false,
    followRedirects: 0,
    maxBodyBytes: 1 << 20,
    source: { file: "probes/test.yaml", line: 1 },
  };
}
