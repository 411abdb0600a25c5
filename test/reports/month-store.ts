import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "../../src/clock/fake.js";
import type { FailureReason, ProbeResult, ResultFlag } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { generateMonth, MONTH_END, type ScenarioResult, sloYaml, toNdjson } from "./month-scenario.js";

export interface PreparedMonth {
  readonly dir: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly ndjsonFile: string;
  readonly results: readonly ScenarioResult[];
}

function toProbeResult(r: ScenarioResult): ProbeResult {
  return {
    ts: r.ts,
    probe: r.probe,
    category: r.category,
    status: r.status,
    durationMs: r.duration_ms,
    error: r.error as FailureReason | null,
    errorCode: r.error_code,
    correlationId: r.correlation_id,
    flags: (r.flags ?? []) as ResultFlag[],
    bodyError: (r.body_error ?? null) as FailureReason | null,
    detail: r.detail ?? null,
  };
}

/**
 * Writes the scenario's slo.yaml and NDJSON into `dir` and stores the month in a real SQLite
 * evidence store under dir/data, through the store's own import path.
 */
export function prepareMonth(dir: string): PreparedMonth {
  const results = generateMonth();
  const configFile = join(dir, "slo.yaml");
  const dataDir = join(dir, "data");
  const ndjsonFile = join(dir, "month.ndjson");
  writeFileSync(configFile, sloYaml("./data"));
  writeFileSync(ndjsonFile, toNdjson(results));
  const store = openEvidenceStore({ dataDir, clock: new FakeClock(MONTH_END + 86_400_000) });
  try {
    store.importResults(results.map(toProbeResult));
  } finally {
    store.close();
  }
  return { dir, configFile, dataDir, ndjsonFile, results };
}
