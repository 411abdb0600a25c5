import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";

/**
 * A month of the shipped profile (slo.yaml's 13 categories and 3 service classes) probed every
 * 15 minutes, with what a real month holds: a long outage that leaves one day at about 40 % and a
 * 6-hour one that take a service class under its target, a
 * day the agent ran for an hour only (a handful of requests), a slow category that misses its
 * latency objective, scattered short failures in every category, a maintenance window and an
 * exclusion. Deterministic, so the PDF page count and the docs/ samples are the same every run.
 */

export const PROFILE_MONTH = "2026-10";
export const PROFILE_START = Date.UTC(2026, 9, 1);
export const PROFILE_END = Date.UTC(2026, 10, 1);
const STEP_MS = 15 * 60_000;
const at = (iso: string) => Date.parse(iso);

/** payment_request is down from 09:30 to midnight: 38 of the day's 96 requests served (39.6 %). */
export const LOW_DAY = { category: "payment_request", date: "2026-10-12", start: at("2026-10-12T09:30:00Z") };
/** The agent ran from 00:00 to 01:00 only: 4 requests a category that day, one of identity's failed. */
export const SPARSE_DAY = {
  date: "2026-10-20",
  start: at("2026-10-20T01:00:00Z"),
  end: at("2026-10-21T00:00:00Z"),
};
/** payment_confirmation is down for 6 h: with payment_request's day, its class falls under 99 %. */
const SECOND_OUTAGE = {
  category: "payment_confirmation",
  start: at("2026-10-17T02:00:00Z"),
  end: at("2026-10-17T08:00:00Z"),
};
const SLOW = { category: "disputes", start: at("2026-10-05T00:00:00Z"), end: at("2026-10-07T00:00:00Z") };

interface ProfileCategory {
  readonly id: string;
  readonly title: string;
  readonly cls: string;
  readonly objective: number;
}

/** The categories and classes of the repository's slo.yaml, in its order. */
export function shippedProfile(repo: string): {
  categories: ProfileCategory[];
  classes: { id: string; title: string }[];
} {
  const doc = parse(readFileSync(join(repo, "slo.yaml"), "utf8")) as {
    service_classes: Record<string, { title: string }>;
    categories: Record<string, { title: string; service_class: string; latency_p99_ms: number }>;
  };
  return {
    categories: Object.entries(doc.categories).map(([id, c]) => ({
      id,
      title: c.title,
      cls: c.service_class,
      objective: c.latency_p99_ms,
    })),
    classes: Object.entries(doc.service_classes).map(([id, c]) => ({ id, title: c.title })),
  };
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function resultAt(
  ts: number,
  c: ProfileCategory,
  ci: number,
  slot: number,
  random: () => number,
): ProbeResult {
  const latency = Math.round(c.objective * (0.15 + 0.5 * random()) * 1000) / 1000;
  const base = { ts, probe: `${c.id.replaceAll("_", "-")}-read`, category: c.id, error: null };
  const failed = (errorCode: string) => ({
    ...base,
    status: 503,
    durationMs: latency,
    errorCode,
    correlationId: `${c.id.slice(0, 4)}-${ts.toString(36)}`,
  });
  if (c.id === LOW_DAY.category && ts >= LOW_DAY.start && ts < LOW_DAY.start + 14.5 * 3_600_000)
    return failed("INTERNAL_ERROR");
  if (c.id === SECOND_OUTAGE.category && ts >= SECOND_OUTAGE.start && ts < SECOND_OUTAGE.end)
    return failed("INTERNAL_ERROR");
  if (c.id === "identity" && ts >= SPARSE_DAY.start - 3_600_000 && ts < SPARSE_DAY.start - 2_700_000)
    return failed("TEMPORARILY_UNAVAILABLE");
  // Every category fails now and then: a 15-minute blip every few days, at its own times.
  if ((slot + 37 * ci) % 331 === 0 || (slot + 11 * ci) % 977 === 0) return failed("TEMPORARILY_UNAVAILABLE");
  if (c.id === SLOW.category && ts >= SLOW.start && ts < SLOW.end && slot % 4 === 1)
    return { ...base, status: 200, durationMs: c.objective * 1.4, errorCode: null, correlationId: null };
  if (slot % 89 === ci)
    return { ...base, status: 404, durationMs: latency, errorCode: "NOT_FOUND", correlationId: null };
  return { ...base, status: 200, durationMs: latency, errorCode: null, correlationId: null };
}

/** Every result of the month, in ts order. */
export function generateProfileMonth(categories: readonly ProfileCategory[]): ProbeResult[] {
  const random = lcg(20261001);
  const results: ProbeResult[] = [];
  for (let slot = 0, t = PROFILE_START; t < PROFILE_END; slot++, t += STEP_MS) {
    categories.forEach((c, ci) => {
      const ts = t + ci * 20_000 + 123;
      if (ts >= SPARSE_DAY.start && ts < SPARSE_DAY.end) return;
      results.push(resultAt(ts, c, ci, slot, random));
    });
  }
  return results;
}

export function profileYaml(repo: string, dataDir: string): string {
  const { categories, classes } = shippedProfile(repo);
  return `version: 1
agent:
  id: probe-eu-1
  region: eu
  listen: 127.0.0.1:0
  data_dir: ${JSON.stringify(dataDir)}
  retention_days: 36500
service_classes:
${classes.map((c) => `  ${c.id}: {title: ${JSON.stringify(c.title)}, availability_target_pct: 99.0}`).join("\n")}
categories:
${categories.map((c) => `  ${c.id}: {title: ${JSON.stringify(c.title)}, service_class: ${c.cls}, latency_p99_ms: ${c.objective}}`).join("\n")}
maintenance:
  policy: {min_notice_days: 7, max_occasions_per_year: 5, max_hours_per_year: 15}
  windows:
    - {id: mw-2026-10-10, start: 2026-10-10T01:00:00Z, end: 2026-10-10T03:00:00Z, announced_at: 2026-09-30T12:00:00Z, categories: [all]}
exclusions:
  - {id: fm-1, start: 2026-10-24T10:00:00Z, end: 2026-10-24T11:00:00Z, reason: "acquirer outage", categories: [settlements]}
sla:
  provider: Klarna
  credits: [{below_pct: 99.0, credit_pct: 10}, {below_pct: 95.0, credit_pct: 25}]
targets:
  klarna: {base_url: "http://127.0.0.1:9", environment: simulator, auth: {type: none}}
probes:
${categories.map((c) => `  - {id: ${c.id.replaceAll("_", "-")}-read, category: ${c.id}, target: klarna, every: 15m, method: GET, path: /${c.id}, timeout_ms: 10000}`).join("\n")}
`;
}

/** Writes dir/slo.yaml and stores the month in a real SQLite store under dir/data; returns the config path. */
export function prepareProfileMonth(repo: string, dir: string): string {
  const configFile = join(dir, "slo.yaml");
  writeFileSync(configFile, profileYaml(repo, "./data"));
  const results = generateProfileMonth(shippedProfile(repo).categories);
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock: new FakeClock(PROFILE_END + 86_400_000),
  });
  try {
    store.importResults(results);
  } finally {
    store.close();
  }
  return configFile;
}
