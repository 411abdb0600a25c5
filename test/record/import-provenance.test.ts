import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { runCli } from "../support/cli.js";
import { importSloYaml } from "./import-config.js";

// Attack 24b, finding 1: `import` into the agent's own store filled a live outage with made-up
// successes (1 ms after each of the agent's own 503s) and with successes dated weeks ahead, exit
// 0, and nothing in the report said which records were imported. Real CLI, real SQLite file.

const SLO_YAML = importSloYaml("id: vm, region: eu, data_dir: ./evidence");

const SLOW = 180_000;
const T0 = Date.UTC(2026, 9, 1);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-import-provenance-"));
  dirs.push(dir);
  writeFileSync(join(dir, "slo.yaml"), SLO_YAML);
  return dir;
}

async function cli(cwd: string, ...args: string[]) {
  const { code, stdout, stderr } = await runCli(args, { cwd });
  return { code, stdout, stderr };
}

function wire(ts: number, fields: Record<string, unknown> = {}): string {
  const line = { ts: new Date(ts).toISOString(), probe: "pr", category: "payment_request" };
  return JSON.stringify({ ...line, status: 200, duration_ms: 3, error: null, ...fields });
}

/** The agent's own run: one result every 30 s from `from`, written through the daemon's path. */
function measured(
  dir: string,
  from: number,
  runs: number,
  status: number,
  skip = new Set<number>(),
  probe = "pr",
): number[] {
  const store = openEvidenceStore({
    dataDir: join(dir, "evidence"),
    clock: new FakeClock(from),
    identity: { agent: "vm", region: "eu" },
  });
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (skip.has(i)) continue;
    const result: ProbeResult = {
      ts: from + i * 30_000,
      probe,
      category: "payment_request",
      status,
      durationMs: 5,
      error: null,
      errorCode: null,
      correlationId: null,
    };
    store.record(result);
    ts.push(result.ts);
  }
  store.close();
  return ts;
}

const report = async (dir: string, format: string) =>
  cli(dir, "report", "--month", "2026-10", "--format", format, "--config", "slo.yaml");

describe("import refuses results dated in the future", () => {
  it(
    "a line dated more than 5 minutes after the import's clock is refused by line (exit 2, nothing stored); --skip-invalid stores the rest",
    async () => {
      const dir = workDir();
      const now = Date.now();
      const text = `${wire(now - 60_000)}\n${wire(now + 60_000)}\n${wire(now + 86_400_000)}\n`;
      writeFileSync(join(dir, "fut.ndjson"), text);
      const refused = await cli(dir, "import", "fut.ndjson");
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /fut\.ndjson:3: ts \S+ is in the future: more than 5 minutes after this import's clock \(\S+\); a result can only be imported once its request was made/,
      );
      expect(refused.stderr).not.toContain("fut.ndjson:2:");
      const skipped = await cli(dir, "import", "--skip-invalid", "fut.ndjson");
      expect(skipped.code, skipped.stderr).toBe(0);
      expect(skipped.stdout).toBe("imported 2 results (0 already present)\n");
      expect(skipped.stderr).toContain("skipped 1 invalid lines");
    },
    SLOW,
  );
});

describe("imported records are told apart from the agent's own", () => {
  it(
    "results slipped between the agent's own runs of an outage are counted as imported and interleaved, warned in every format; the import is an input record",
    async () => {
      const dir = workDir();
      const own = measured(dir, T0, 40, 503);
      const fake = own.map((ts) => wire(ts + 1)).join("\n");
      writeFileSync(join(dir, "fake.ndjson"), `${fake}\n`);
      const imported = await cli(dir, "import", "fake.ndjson");
      expect(imported.code, imported.stderr).toBe(0);

      const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true });
      const rows = db.prepare("SELECT payload FROM input_records WHERE kind = 'import'").pluck().all();
      db.close();
      expect(rows.map((p) => JSON.parse(p as string))).toEqual([
        {
          already_present: 0,
          file_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          first_seq: 41,
          last_seq: 80,
          first_ts: new Date(T0 + 1).toISOString(),
          last_ts: new Date(own.at(-1)! + 1).toISOString(),
          lines: 40,
          skipped: 0,
          stored: 40,
        },
      ]);

      const json = await report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout);
      // The last fake result follows the agent's last run: nothing after it shows it out of place.
      expect(parsed.evidence.imported).toEqual({
        records: 40,
        interleaved: 39,
        by_category: [{ category: "payment_request", records: 40, interleaved: 39 }],
      });
      expect(parsed.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^40 records were stored by slo-agent import .*\(payment_request 40\)/),
          expect.stringMatching(/^IMPORTED RESULTS INTERLEAVE WITH THE AGENT'S OWN: 39 imported records/),
        ]),
      );
      expect((await report(dir, "md")).stdout).toContain("**Warning:** IMPORTED RESULTS INTERLEAVE");
      expect((await report(dir, "html")).stdout).toContain(
        'data-verdict="warning">Warning: IMPORTED RESULTS',
      );
      expect((await report(dir, "csv")).stdout).toContain("IMPORTED RESULTS INTERLEAVE");
    },
    SLOW,
  );

  it(
    "a file out of ts order is recorded too (the sorted path), and an import that stores nothing records nothing",
    async () => {
      const dir = workDir();
      const lines = [2, 0, 1].map((i) => wire(T0 + i * 30_000));
      writeFileSync(join(dir, "shuffled.ndjson"), `${lines.join("\n")}\n\n`);
      expect((await cli(dir, "import", "shuffled.ndjson")).code).toBe(0);
      const again = await cli(dir, "import", "shuffled.ndjson");
      expect(again.stdout).toBe("imported 0 results (3 already present)\n");
      const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true });
      const rows = db.prepare("SELECT payload FROM input_records WHERE kind = 'import'").pluck().all();
      db.close();
      expect(rows.map((p) => JSON.parse(p as string))).toEqual([
        expect.objectContaining({
          lines: 4,
          stored: 3,
          first_seq: 1,
          last_seq: 3,
          first_ts: new Date(T0).toISOString(),
        }),
      ]);
    },
    SLOW,
  );

  it(
    "an honest backfill is counted as imported, never as interleaved: the agent's buffered runs while it was offline, another agent's results",
    async () => {
      const dir = workDir();
      const offline = new Set(Array.from({ length: 20 }, (_, i) => 10 + i));
      measured(dir, T0, 40, 200, offline);
      const buffered = [...offline].map((i) => wire(T0 + i * 30_000 + 40));
      const other = Array.from({ length: 40 }, (_, i) => wire(T0 + i * 30_000 + 7, { agent: "probe-us-9" }));
      writeFileSync(join(dir, "backfill.ndjson"), `${[...buffered, ...other].join("\n")}\n`);
      const imported = await cli(dir, "import", "backfill.ndjson");
      expect(imported.code, imported.stderr).toBe(0);
      const json = await report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.evidence.imported).toEqual({
        records: 60,
        interleaved: 0,
        by_category: [{ category: "payment_request", records: 60, interleaved: 0 }],
      });
      expect(parsed.warnings.join("\n")).not.toContain("INTERLEAVE");
    },
    SLOW,
  );

  it(
    "503s imported under a made-up probe id of the category, 1 ms after each of the agent's own results, are interleaved, and the id is named in every format (AUDIT-23e finding 6)",
    async () => {
      const dir = workDir();
      const own = measured(dir, T0, 40, 200);
      const fake = own.map((ts) => wire(ts + 1, { probe: "pr-x", status: 503 })).join("\n");
      writeFileSync(join(dir, "fake.ndjson"), `${fake}\n`);
      const imported = await cli(dir, "import", "--allow-unknown", "fake.ndjson");
      expect(imported.code, imported.stderr).toBe(0);
      const json = await report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.evidence.imported).toEqual({
        records: 40,
        interleaved: 39,
        by_category: [{ category: "payment_request", records: 40, interleaved: 39 }],
      });
      const named = "Imported under probe ids this configuration does not have: pr-x (payment_request 40).";
      expect(parsed.warnings).toEqual(
        expect.arrayContaining([
          expect.stringContaining(named),
          expect.stringMatching(
            /^IMPORTED RESULTS INTERLEAVE WITH THE AGENT'S OWN: 39 imported records lie between two consecutive runs that this agent measured itself for the same probe, or the same category, and agent/,
          ),
        ]),
      );
      for (const format of ["md", "html", "csv"]) {
        // Markdown escapes the id's punctuation.
        const out = (await report(dir, format)).stdout.replaceAll("\\", "");
        expect(out, format).toContain("IMPORTED RESULTS INTERLEAVE");
        expect(out, format).toContain("pr-x (payment_request 40)");
      }
    },
    SLOW,
  );

  it(
    "a backfill under another probe id of the category while the agent was offline is counted as imported and named, not interleaved",
    async () => {
      const dir = workDir();
      const offline = new Set(Array.from({ length: 20 }, (_, i) => 10 + i));
      measured(dir, T0, 40, 200, offline);
      const backfill = [...offline].map((i) => wire(T0 + i * 30_000 + 40, { probe: "pr-old" }));
      writeFileSync(join(dir, "backfill.ndjson"), `${backfill.join("\n")}\n`);
      const imported = await cli(dir, "import", "--allow-unknown", "backfill.ndjson");
      expect(imported.code, imported.stderr).toBe(0);
      const parsed = JSON.parse((await report(dir, "json")).stdout);
      expect(parsed.evidence.imported).toMatchObject({ records: 20, interleaved: 0 });
      expect(parsed.warnings.join("\n")).not.toContain("INTERLEAVE");
      expect(parsed.warnings.join("\n")).toContain("pr-old (payment_request 20)");
    },
    SLOW,
  );

  it(
    "a flow step's own results (probe id flow/step) are the agent's runs of the category: 503s under a made-up id between them are interleaved, and only that id is named",
    async () => {
      const dir = workDir();
      const flow =
        "  - {id: fl, kind: flow, category: payment_request, target: klarna, every: 30s, timeout_ms: 10000, steps: [{id: read, method: GET, path: /payments/v1/sessions/1}]}\n";
      writeFileSync(join(dir, "slo.yaml"), SLO_YAML + flow);
      const own = measured(dir, T0, 20, 200, new Set(), "fl/read");
      const fake = own.map((ts) => wire(ts + 1, { probe: "fl/read-x", status: 503 }));
      writeFileSync(join(dir, "fake.ndjson"), `${fake.join("\n")}\n`);
      expect((await cli(dir, "import", "--allow-unknown", "fake.ndjson")).code).toBe(0);
      const parsed = JSON.parse((await report(dir, "json")).stdout);
      expect(parsed.evidence.imported).toMatchObject({ records: 20, interleaved: 19 });
      const warnings = parsed.warnings.join("\n");
      expect(warnings).toContain(
        "Imported under probe ids this configuration does not have: fl/read-x (payment_request 20).",
      );
    },
    SLOW,
  );
});

/**
 * AUDIT-23f finding 3: imported 503s at the head of an agent run (after its `run_start`, before
 * the category's first own result) or at its tail (after the last own result, before `run_end`)
 * lay between no two of the agent's own results, so they were not counted as interleaved and took
 * availability from 100 to about 72 %. A run is a signed input record now: an imported result of a
 * category dated inside a run in which the agent measured that category is interleaved.
 */
describe("imported results at the head or tail of an agent run", () => {
  const START = T0 + 3_600_000;
  /** A run from START: 20 own results every 30 s from START + 60 s, a clean end 60 s after the last. */
  function run(dir: string): { first: number; last: number; end: number } {
    const clock = new FakeClock(START);
    const store = openEvidenceStore({
      dataDir: join(dir, "evidence"),
      clock,
      identity: { agent: "vm", region: "eu" },
    });
    store.startRun(START);
    const first = START + 60_000;
    for (let i = 0; i < 20; i++) {
      const ts = first + i * 30_000;
      clock.advance(ts - clock.now());
      store.record({
        ts,
        probe: "pr",
        category: "payment_request",
        status: 200,
        durationMs: 5,
        error: null,
        errorCode: null,
        correlationId: null,
      });
    }
    const last = first + 19 * 30_000;
    const end = last + 60_000;
    clock.advance(end - clock.now());
    store.endRun(end);
    store.close();
    return { first, last, end };
  }

  for (const edge of ["head", "tail"] as const) {
    it(
      `${edge}: 503s under a made-up id of the category are interleaved; the same 503s before the run are not`,
      async () => {
        const dir = workDir();
        const { first, last } = run(dir);
        const at = (i: number) => (edge === "head" ? START + 1_000 + i * 2_500 : last + 1_000 + i * 2_500);
        const inside = Array.from({ length: 20 }, (_, i) => wire(at(i), { probe: "pr-x", status: 503 }));
        // Before the run began: the agent was not up, an honest backfill.
        const before = Array.from({ length: 5 }, (_, i) =>
          wire(START - 600_000 + i * 1_000, { probe: "pr-x", status: 503 }),
        );
        expect(at(19)).toBeLessThan(edge === "head" ? first : last + 60_000);
        writeFileSync(join(dir, "fake.ndjson"), `${[...before, ...inside].join("\n")}\n`);
        const imported = await cli(dir, "import", "--allow-unknown", "fake.ndjson");
        expect(imported.code, imported.stderr).toBe(0);
        const parsed = JSON.parse((await report(dir, "json")).stdout);
        expect(parsed.evidence.imported).toMatchObject({ records: 25, interleaved: 20 });
        expect(parsed.warnings.join("\n")).toContain("INTERLEAVE");
      },
      SLOW,
    );
  }
});
