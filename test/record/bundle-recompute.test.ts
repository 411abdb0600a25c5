import { execFileSync, spawnSync } from "node:child_process";
import { createHash, createPrivateKey, sign } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { FailureReason, ProbeResult, ResultFlag } from "../../src/model/index.js";
import { CONTROL_CATEGORY, controlProbeId } from "../../src/model/validity.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { generateMonth, MONTH, MONTH_END, sloYaml } from "../reports/month-scenario.js";
import { recompute } from "../support/recompute.js";

/**
 * Contract section 13, "Self-sufficient bundle": a real store holding a month with a provider
 * outage, announced maintenance (qualifying, late, capped, and a feed window), a declared
 * exclusion, a merchant-side control failure and an agent_error result; `evidence export`
 * writes the bundle and `python3 recompute.py`, run in it with nothing else, must give every
 * figure of the report, and must name any single verdict that does not hold.
 */

const MERCHANT_SIDE = { start: Date.parse("2026-03-18T09:00:00Z"), end: Date.parse("2026-03-18T09:30:00Z") };
/** Both controls fail, but a provider request is answered meanwhile: no witnesses, the failures count. */
const CONTRADICTED = { start: Date.parse("2026-03-20T09:00:00Z"), end: Date.parse("2026-03-20T09:10:00Z") };
/**
 * Both controls fail while the provider does, but they reached the address of the failing probe's
 * target (a DNS alias of its host, attack 24d finding 1): no witnesses for it, its failures count.
 */
const ON_PATH = { start: Date.parse("2026-03-22T09:00:00Z"), end: Date.parse("2026-03-22T09:10:00Z") };
/** The controls' failures begin this long before an episode's provider failures. */
const LEAD_MS = 20_000;
const AGENT_ERROR_TS = Date.parse("2026-03-19T10:00:07Z");
/** A probe whose target never answers (a mistyped port): its failures are target_unreached. */
const UNREACHED_FROM = Date.parse("2026-03-05T10:00:03Z");
/** A probe with no answer before it whose request connected, then timed out: counted. */
const HUNG_TS = Date.parse("2026-03-06T10:00:03Z");
/** A probe under an alias of a host whose address answered: its refused connect counts (attack 24c, 3). */
const ALIAS_TS = Date.parse("2026-03-07T10:00:03Z");
const ALIAS_ADDRESS = "http://10.9.9.9:8080";
const EXTRA_CONFIG = `controls:
  - {id: egress, url: "http://127.0.0.1:9/", every: 10s, timeout_ms: 5000}
  - {id: dns, url: "http://127.0.0.1:9/", every: 10s, timeout_ms: 5000}
sla:
  provider: Klarna Bank AB
  credits: [{below_pct: 99.0, credit_pct: 10}, {below_pct: 95.0, credit_pct: 25}]
`;

function result(ts: number, over: Partial<ProbeResult>): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: 200,
    durationMs: 100,
    error: null,
    errorCode: null,
    correlationId: null,
    ...over,
  };
}

/**
 * Both controls answering every 10 s for a quarter of an hour, then failing together from
 * LEAD_MS before the episode until its end (healthy witnesses, contract section 14), then
 * answering again for 10 minutes.
 */
function controlEpisode(episode: { start: number; end: number }, address?: string): ProbeResult[] {
  const results: ProbeResult[] = [];
  for (const control of ["egress", "dns"]) {
    for (let ts = episode.start - 15 * 60_000; ts < episode.end + 600_000; ts += 10_000) {
      const down = ts >= episode.start - LEAD_MS && ts < episode.end;
      results.push(
        result(ts + (control === "dns" ? 1 : 0), {
          probe: controlProbeId(control),
          category: CONTROL_CATEGORY,
          status: down ? null : 200,
          error: down ? "connect" : null,
          durationMs: 3,
          ...(address && !down ? { observed: { address } } : {}),
        }),
      );
    }
  }
  return results;
}

/**
 * The scenario month, with both controls failing for half an hour and the provider unreachable
 * then (merchant_side), and failing for 10 minutes while the provider still answers a request
 * (no witnesses: the provider's failures then count).
 */
function monthResults(): ProbeResult[] {
  // No provider answer while the controls fail in the merchant-side episode (it would contradict them).
  const inMerchantSide = (ts: number) =>
    [MERCHANT_SIDE, ON_PATH].some((e) => ts >= e.start - LEAD_MS - 60_000 && ts < e.end);
  const results: ProbeResult[] = generateMonth()
    .filter((r) => !inMerchantSide(r.ts))
    .map((r) => ({
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
    }));
  results.push(...controlEpisode(MERCHANT_SIDE), ...controlEpisode(CONTRADICTED));
  // The controls answer from the very address (another spelling of it) the on-path probe's target had.
  results.push(...controlEpisode(ON_PATH, "http://[::ffff:10.7.7.7]:443"));
  const onPath = { probe: "payment-request-onpath" };
  results.push(
    result(ON_PATH.start - 3_600_000 + 11, { ...onPath, observed: { address: "https://10.7.7.7:443" } }),
  );
  for (let ts = ON_PATH.start + 5_000; ts < ON_PATH.end; ts += 60_000)
    results.push(result(ts, { ...onPath, status: null, error: "connect", durationMs: 2 }));
  for (let ts = MERCHANT_SIDE.start + 5_000; ts < MERCHANT_SIDE.end; ts += 60_000)
    results.push(result(ts, { status: null, error: "connect", durationMs: 2 }));
  results.push(result(CONTRADICTED.start + 30_003, { status: 200, durationMs: 120 }));
  for (let ts = CONTRADICTED.start + 65_003; ts < CONTRADICTED.end; ts += 60_000)
    results.push(result(ts, { status: null, error: "connect", durationMs: 2 }));
  results.push(
    result(AGENT_ERROR_TS, {
      probe: "settlements-read",
      category: "settlements",
      status: null,
      error: "connect",
      durationMs: 1,
      flags: ["agent_error"],
      detail: "EMFILE",
    }),
  );
  for (let i = 0; i < 5; i++)
    results.push(
      result(UNREACHED_FROM + i * 60_000, {
        probe: "payment-request-typo",
        status: null,
        error: "connect",
        durationMs: 1,
        detail: "ECONNREFUSED",
      }),
    );
  // A request that connected, then timed out: the provider's, whatever the probe's history.
  results.push(
    result(HUNG_TS, {
      probe: "payment-request-hung",
      status: null,
      error: "timeout",
      durationMs: 10_000,
      phases: { dnsMs: null, connectMs: 1, tlsMs: null, requestSentMs: 1.5, ttfbMs: null, bodyEndMs: null },
    }),
  );
  results.push(
    result(ALIAS_TS - 3_600_000 + 7, { observed: { address: ALIAS_ADDRESS } }),
    result(ALIAS_TS, {
      probe: "payment-request-alias",
      status: null,
      error: "connect",
      durationMs: 1,
      detail: "ECONNREFUSED: connect ECONNREFUSED 10.9.9.9:8080",
      observed: { tried: [ALIAS_ADDRESS] },
    }),
  );
  return results.sort((a, b) => a.ts - b.ts);
}

let dir: string;
let bundle: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-bundle-recompute-"));
  writeFileSync(join(dir, "slo.yaml"), sloYaml("./data").replace("targets:", `${EXTRA_CONFIG}targets:`));
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock: new FakeClock(MONTH_END + 86_400_000),
  });
  try {
    // A window the maintenance feed announced 17 days ahead (over the occasion cap of this year),
    // read before the month's results were imported (an input is never dated before the log's newest record).
    store.feedWindows.observe(
      [
        {
          providerId: "sp-db-upgrade",
          name: "Database upgrade",
          start: Date.parse("2026-03-27T02:00:00Z"),
          end: Date.parse("2026-03-27T03:00:00Z"),
          providerCreatedAt: Date.parse("2026-03-09T23:00:00Z"),
          categories: "all",
          cancelled: false,
          digest: "feed-entry-1",
        },
      ],
      Date.parse("2026-03-10T00:05:00Z"),
    );
    store.importResults(monthResults());
  } finally {
    store.close();
  }
  const run = slo(["evidence", "export", "--month", MONTH, "--out", "bundle"], dir);
  if (run.code !== 0) throw new Error(run.stderr);
  bundle = join(dir, "bundle");
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Figures {
  categories: Record<string, unknown>[];
  service_classes: Record<string, unknown>[];
}

/** A copy of the bundle with one line of classification.ndjson rewritten. */
function withVerdict(name: string, find: (line: string) => boolean, rewrite: (line: string) => string) {
  const copy = join(dir, name);
  cpSync(bundle, copy, { recursive: true });
  const file = join(copy, "classification.ndjson");
  const lines = readFileSync(file, "utf8").split("\n");
  const at = lines.findIndex(find);
  expect(at).toBeGreaterThanOrEqual(0);
  const line = lines[at]!;
  lines[at] = rewrite(line);
  writeFileSync(file, lines.join("\n"));
  return { copy, ts: JSON.parse(line).ts as string };
}

describe("the self-sufficient bundle: python3 recompute.py (contract section 13)", {
  timeout: 180_000,
}, () => {
  it("recomputes every figure of the report from the bundle alone, field by field", () => {
    const report = slo(["report", "--month", MONTH, "--format", "json"], dir);
    expect(report.code, report.stderr).toBe(0);
    const json = JSON.parse(report.stdout);
    const run = recompute(bundle);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const figures = JSON.parse(run.stdout) as Figures;
    expect(Object.keys(figures)).toEqual(["categories", "service_classes"]);
    expect(figures.categories).toHaveLength(json.categories.length);
    for (const row of figures.categories) {
      const stated = json.categories.find((c: { category: string }) => c.category === row.category);
      expect(Object.keys(row)).toEqual([
        "category",
        "requests",
        "successful",
        "excluded",
        "availability_pct",
        "latency_p99_ms",
      ]);
      for (const [field, value] of Object.entries(row))
        expect([row.category, field, value]).toEqual([row.category, field, stated[field]]);
    }
    expect(figures.service_classes).toHaveLength(json.service_classes.length);
    for (const row of figures.service_classes) {
      const stated = json.service_classes.find(
        (s: { service_class: string }) => s.service_class === row.service_class,
      );
      expect(Object.keys(row)).toEqual(["service_class", "availability_pct", "credit_pct"]);
      for (const [field, value] of Object.entries(row))
        expect([row.service_class, field, value]).toEqual([row.service_class, field, stated[field]]);
    }
    // The month is what it was built to be: a credit is owed, and every kind of verdict occurs.
    expect(figures.service_classes.find((s) => s.service_class === "transaction_critical")?.credit_pct).toBe(
      10,
    );
    const verdicts = readFileSync(join(bundle, "classification.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).verdict);
    expect(new Set(verdicts)).toEqual(
      new Set(["counted", "maintenance", "exclusion", "merchant_side", "agent_error", "target_unreached"]),
    );
    expect(json.categories.reduce((n: number, c: { excluded: number }) => n + c.excluded, 0)).toBe(
      verdicts.filter((v) => v !== "counted").length,
    );
  });

  it("holds the configuration config_sha256 names, the feed's windows and the signed report", () => {
    const statement = JSON.parse(readFileSync(join(bundle, "statement.json"), "utf8"));
    const configuration = readFileSync(join(bundle, "configuration.json"));
    expect(createHash("sha256").update(configuration).digest("hex")).toBe(statement.config_sha256);
    expect(configuration.toString()).not.toMatch(/api_token|password|Bearer/i);
    const maintenance = JSON.parse(readFileSync(join(bundle, "maintenance.json"), "utf8"));
    expect(maintenance.feed_windows.map((w: { providerId: string }) => w.providerId)).toEqual([
      "sp-db-upgrade",
    ]);
    expect(maintenance.windows.find((w: { id: string }) => w.id === "sp-db-upgrade")).toMatchObject({
      qualified: false,
      reason: "occasion_cap",
      source: "feed",
    });
    expect(slo(["verify", "--report", join(bundle, "report.json")], dir).code).toBe(0);
    const verified = slo(["verify", "--bundle", "bundle"], dir);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(readFileSync(join(bundle, "SHA256SUMS"), "utf8")).toMatch(/ {2}recompute\.py\n/);
  });

  it.each<[string, (line: string) => boolean, (line: string) => string, RegExp]>([
    [
      "an outage 503 claimed as inside the declared exclusion",
      (l) => l.includes('"2026-03-12T12:') && l.includes('"counted"'),
      (l) => l.replace('"verdict":"counted"', '"verdict":"exclusion","by":"fm-1"'),
      /excluded by exclusion fm-1, which does not cover it/,
    ],
    [
      "an outage 503 claimed as merchant-side",
      (l) => l.includes('"2026-03-12T12:') && l.includes('"counted"'),
      (l) =>
        l.replace(
          '"verdict":"counted"',
          '"verdict":"merchant_side","controls":[{"control":"egress","ts":"2026-03-12T11:59:50.000Z","error":"connect"}]',
        ),
      /not a request that failed without a response of a network kind/,
    ],
    [
      "a request inside a window cut by the hours cap claimed as maintenance",
      (l) => l.includes('"2026-03-15T01:3') && l.includes("payment_request") && l.includes('"counted"'),
      (l) => l.replace('"verdict":"counted"', '"verdict":"maintenance","by":"mw-b"'),
      /excluded by maintenance mw-b, which does not qualify for it at this time/,
    ],
    [
      "a maintenance exclusion turned into a counted request",
      (l) => l.includes('"2026-03-08T00:1') && l.includes('"maintenance"'),
      (l) => l.replace('"verdict":"maintenance","by":"mw-a"', '"verdict":"counted"'),
      /counted, but inside mw-a/,
    ],
    [
      "a merchant-side verdict citing a control result that is not in the records",
      (l) => l.includes('"merchant_side"'),
      (l) => l.replace(/"control":"egress","ts":"([^"]+)\.000Z"/, '"control":"egress","ts":"$1.500Z"'),
      /control egress has no failed result at .* in records\.ndjson/,
    ],
    [
      "a failure while the provider still answered claimed as merchant-side (the controls were no witnesses)",
      (l) => l.includes('"ts":"2026-03-20T09:01:05.003Z"') && l.includes('"counted"'),
      (l) =>
        l.replace(
          '"verdict":"counted"',
          '"verdict":"merchant_side","controls":[{"control":"dns","ts":"2026-03-20T09:01:00.001Z","error":"connect"},{"control":"egress","ts":"2026-03-20T09:01:00.000Z","error":"connect"}]',
        ),
      /control dns was no witness at .*: not answering in the 10 minutes before its failures began, flapping, or contradicted by a provider response/,
    ],
    [
      "a failure claimed as merchant-side by controls that reached its target's address (on the provider's path)",
      (l) => l.includes('"ts":"2026-03-22T09:00:05.000Z"') && l.includes('"counted"'),
      (l) =>
        l.replace(
          '"verdict":"counted"',
          '"verdict":"merchant_side","controls":[{"control":"dns","ts":"2026-03-22T09:00:00.001Z","error":"connect"},{"control":"egress","ts":"2026-03-22T09:00:00.000Z","error":"connect"}]',
        ),
      /control dns was no witness at .*: it reached an address the request's target had, on the provider's own path/,
    ],
    [
      "a provider failure after its target had answered claimed as target_unreached",
      (l) => l.includes('"ts":"2026-03-20T09:01:05.003Z"') && l.includes('"counted"'),
      (l) => l.replace('"verdict":"counted"', '"verdict":"target_unreached","since":null'),
      /target_unreached, but the probe's target answered at 2026-03-\d\dT.* under the same configuration/,
    ],
    [
      "a timeout after connecting claimed as target_unreached",
      (l) => l.includes('"ts":"2026-03-06T10:00:03.000Z"') && l.includes('"counted"'),
      (l) => l.replace('"verdict":"counted"', '"verdict":"target_unreached","since":null'),
      /target_unreached, but the request got a connection to its target/,
    ],
    [
      "a refused connect to an address that had answered (under another host name) claimed as target_unreached",
      (l) => l.includes('"ts":"2026-03-07T10:00:03.000Z"') && l.includes('"counted"'),
      (l) => l.replace('"verdict":"counted"', '"verdict":"target_unreached","since":null'),
      /target_unreached, but http:\/\/10\.9\.9\.9:8080, which the request tried, answered at 2026-03-07T09:00:03\.007/,
    ],
    [
      "a merchant-side verdict citing one control where the quorum is two",
      (l) => l.includes('"merchant_side"'),
      (l) => l.replace(/"controls":\[\{[^}]*\},/, '"controls":['),
      /cites controls \[.*\], not 2 distinct of the configured \['dns', 'egress'\]/,
    ],
  ])("disputes a single verdict that does not hold: %s (exit 1)", (_what, find, rewrite, message) => {
    const { copy, ts } = withVerdict(`disputed-${Math.random().toString(36).slice(2)}`, find, rewrite);
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^${ts.replaceAll(".", "\\.")} \\S+: ${message.source}`, "m"));
    expect(() => JSON.parse(run.stdout)).not.toThrow();
  });

  it("the README's python3 + openssl check of report.json runs as written and fails on a changed credit", () => {
    const readme = readFileSync(join(bundle, "README.md"), "utf8");
    const block = /## 5\.[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const intact = spawnSync("bash", ["-c", block], { cwd: bundle, encoding: "utf8", timeout: 60_000 });
    expect(intact.status, intact.stderr).toBe(0);
    expect(intact.stdout).toContain("Signature Verified Successfully");
    const copy = join(dir, "edited-credit");
    cpSync(bundle, copy, { recursive: true });
    const report = JSON.parse(readFileSync(join(copy, "report.json"), "utf8"));
    report.service_classes[0].credit_pct = 25;
    writeFileSync(join(copy, "report.json"), JSON.stringify(report, null, 2));
    const edited = spawnSync("bash", ["-c", block], { cwd: copy, encoding: "utf8", timeout: 60_000 });
    expect(edited.stdout).not.toContain("Signature Verified Successfully");
  });

  it("a configuration.json that is not the one config_sha256 names is named (exit 1)", () => {
    const copy = join(dir, "edited-configuration");
    cpSync(bundle, copy, { recursive: true });
    const file = join(copy, "configuration.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"maxHoursPerYear":5', '"maxHoursPerYear":6'));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("configuration.json: its SHA-256 is not the statement's config_sha256");
  });

  it("maintenance.json's window verdicts are recomputed and checked against the signed report (audit finding 11)", () => {
    const copy = join(dir, "edited-window-verdicts");
    cpSync(bundle, copy, { recursive: true });
    const file = join(copy, "maintenance.json");
    const document = JSON.parse(readFileSync(file, "utf8"));
    const at = document.windows.findIndex((w: { qualified: boolean }) => w.qualified);
    expect(at).toBeGreaterThanOrEqual(0);
    const window = document.windows[at];
    const excluded = window.excluded_requests as number;
    expect(excluded).toBeGreaterThan(0);
    window.qualified = false;
    window.excluded_requests = 0;
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`maintenance.json windows ${window.id} qualified: False, recomputed True`);
    expect(run.stderr).toContain(
      `maintenance.json windows ${window.id} excluded_requests: 0, recomputed ${excluded}`,
    );
    // verify --bundle names it too (SHA256SUMS re-signed by the agent: only the verdict differs).
    const names = readFileSync(join(copy, "SHA256SUMS"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.slice(66));
    const sums = execFileSync("sha256sum", names, { cwd: copy });
    writeFileSync(join(copy, "SHA256SUMS"), sums);
    const key = createPrivateKey(readFileSync(join(dir, "data", "agent-signing-key.pem")));
    writeFileSync(join(copy, "SHA256SUMS.sig"), sign(null, sums, key));
    const verified = slo(["verify", "--bundle", copy], dir);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(
      `maintenance.json: windows[${at}] is not the signed report's maintenance.windows[${at}] (id ${window.id}): edited`,
    );
  });

  it("a figure of report.json that the records do not give is named (exit 1)", () => {
    const copy = join(dir, "edited-report");
    cpSync(bundle, copy, { recursive: true });
    const report = JSON.parse(readFileSync(join(copy, "report.json"), "utf8"));
    report.service_classes[0].credit_pct = 25;
    writeFileSync(join(copy, "report.json"), JSON.stringify(report));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `report.json service_classes ${report.service_classes[0].service_class} credit_pct: 25, recomputed 10`,
    );
  });
  it("a member inserted before a record's hashed form is refused, not read (exit 1)", () => {
    const copy = join(dir, "unhashed-member");
    cpSync(bundle, copy, { recursive: true });
    const verdicts = readFileSync(join(copy, "classification.ndjson"), "utf8").split("\n");
    const at = verdicts.findIndex((l) => l.includes('"verdict":"counted"') && !l.includes("@control"));
    const target = JSON.parse(verdicts[at]!) as { ts: string; probe: string };
    verdicts[at] = verdicts[at]!.replace('"verdict":"counted"', '"verdict":"agent_error"');
    writeFileSync(join(copy, "classification.ndjson"), verdicts.join("\n"));
    const file = join(copy, "records.ndjson");
    const lines = readFileSync(file, "utf8").split("\n");
    const line = lines.findIndex((l) =>
      l.includes(`"ts":"${target.ts}","probe":${JSON.stringify(target.probe)}`),
    );
    lines[line] = lines[line]!.replace(',"ts":', ',"flags":["agent_error"],"ts":');
    writeFileSync(file, lines.join("\n"));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`records.ndjson:${line + 1}: not a record's hashed form`);
    // The line is not read at all: its verdict has no record to hold on.
    expect(run.stderr).toContain(`${target.ts} ${target.probe}: has a verdict but no record of the month`);
  });

  it.each([
    ["agent_error", "counted, but the record is flagged agent_error"],
    ["merchant_side", "counted, but controls ['dns', 'egress'] were failing witnesses then: merchant_side"],
  ])("a %s record relabelled counted is named (exit 1)", (verdict, message) => {
    const { copy, ts } = withVerdict(
      `relabelled-${verdict}`,
      (l) => l.includes(`"verdict":"${verdict}"`),
      (l) => {
        const { controls: _, ...line } = JSON.parse(l);
        return JSON.stringify({ ...line, verdict: "counted" });
      },
    );
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${ts} `);
    expect(run.stderr).toContain(message);
  });

  it("the signed report names the SHA-256 of the recompute.py shipped beside it and in the release", () => {
    const report = JSON.parse(readFileSync(join(bundle, "report.json"), "utf8"));
    const shipped = createHash("sha256")
      .update(readFileSync(join(bundle, "recompute.py")))
      .digest("hex");
    const release = createHash("sha256")
      .update(readFileSync(join(import.meta.dirname, "../../bundle/recompute.py")))
      .digest("hex");
    expect(report.evidence.recompute_sha256).toBe(shipped);
    expect(shipped).toBe(release);
  });

  it("report.json must be this bundle's: month, records, digest, configuration, key; rows compared as sets", () => {
    const copy = join(dir, "foreign-report");
    cpSync(bundle, copy, { recursive: true });
    const report = JSON.parse(readFileSync(join(copy, "report.json"), "utf8"));
    report.evidence.sha256 = "0".repeat(64);
    report.evidence.config_sha256 = "1".repeat(64);
    report.report_signature.key_id = "0123456789abcdef";
    const dropped = report.categories.pop().category;
    writeFileSync(join(copy, "report.json"), JSON.stringify(report));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    for (const what of ["evidence.sha256", "evidence.config_sha256", "report_signature.key_id"])
      expect(run.stderr).toContain(`report.json ${what}: `);
    expect(run.stderr).toContain(`report.json categories ${dropped}: only in the recomputation`);
  });

  it.each([
    ["an empty maintenance.json", "maintenance.json", "{}"],
    ["a statement without its month", "statement.json", '{"sha256":"00"}'],
    ["a duplicate key", "maintenance.json", '{"feed_windows":[],"feed_windows":[]}'],
  ])("%s is one line and exit 2, not a traceback", (_what, name, content) => {
    const copy = join(dir, `malformed-${name}-${content.length}`);
    cpSync(bundle, copy, { recursive: true });
    writeFileSync(join(copy, name), content);
    const run = recompute(copy);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^recompute\.py: the bundle cannot be read: .+\n$/);
    expect(run.stderr).not.toContain("Traceback");
  });
  it("evidence export --report puts the signed report already sent in the bundle, so its digest is the bundle's", () => {
    const sent = slo(["report", "--month", MONTH, "--format", "json", "--out", "sent.json"], dir);
    expect(sent.code, sent.stderr).toBe(0);
    const digest = slo(["verify", "--report", "sent.json"], dir).stdout.match(/digest ([0-9a-f]{64})/)![1];
    const run = slo(
      ["evidence", "export", "--month", MONTH, "--out", "with-sent", "--report", "sent.json"],
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(dir, "with-sent", "report.json"), "utf8")).toBe(
      readFileSync(join(dir, "sent.json"), "utf8"),
    );
    // The statement is the report's own (its generated_at), not one made again at export.
    const sentStatement = JSON.parse(readFileSync(join(dir, "sent.json"), "utf8")).evidence.statement;
    expect(JSON.parse(readFileSync(join(dir, "with-sent", "statement.json"), "utf8"))).toEqual(sentStatement);
    expect(slo(["verify", "--bundle", "with-sent"], dir).code).toBe(0);
    const again = slo(["verify", "--report", join("with-sent", "report.json")], dir);
    expect(again.stdout).toContain(`digest ${digest}`);
    expect(recompute(join(dir, "with-sent")).code).toBe(0);
    // A report that is not the signed one, or not this month's evidence, is never put in a bundle.
    const report = JSON.parse(readFileSync(join(dir, "sent.json"), "utf8"));
    report.service_classes[0].credit_pct = 25;
    writeFileSync(join(dir, "changed.json"), JSON.stringify(report));
    const refused = slo(
      ["evidence", "export", "--month", MONTH, "--out", "with-changed", "--report", "changed.json"],
      dir,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("report_signature is not a valid signature");
  });
});
