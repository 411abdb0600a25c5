import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { generateResults, ndjsonLine } from "./results.js";

const START = Date.UTC(2026, 9, 1);

const SLO_YAML = `version: 1
agent: {data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
  payment_confirmation: {title: Payment Confirmation, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  klarna: {base_url: "https://api.playground.klarna.com", environment: playground, auth: {type: none}}
probes:
  - {id: payment-request-probe, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/0}
  - {id: payment-confirmation-probe, category: payment_confirmation, target: klarna, every: 30s, path: /payments/v1/authorizations/0}
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(cwd: string, ...args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await runCli(args, { cwd });
  return { code: code ?? -1, stdout, stderr };
}

const dirs: string[] = [];
function workDir(withConfig = true): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-import-"));
  dirs.push(dir);
  if (withConfig) writeFileSync(join(dir, "slo.yaml"), SLO_YAML);
  return dir;
}

/** Results of the two configured probes, every 30 s from START. */
function configuredResults(count: number): string[] {
  return [...generateResults(START, count)].map((r, i) =>
    ndjsonLine({
      ...r,
      probe: i % 2 === 0 ? "payment-request-probe" : "payment-confirmation-probe",
      category: i % 2 === 0 ? "payment_request" : "payment_confirmation",
    }),
  );
}

function storedRows(dir: string): { ts: number; probe: string }[] {
  const file = join(dir, "evidence", "evidence.sqlite");
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT ts, probe FROM results ORDER BY seq").all() as { ts: number; probe: string }[];
  } finally {
    db.close();
  }
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("slo-agent import", () => {
  it("stores shuffled lines once each, in ts order; a second import stores nothing new", async () => {
    const dir = workDir();
    const lines = configuredResults(200);
    const shuffled = [...lines.slice(100), ...lines.slice(0, 100).reverse(), lines[5]!, lines[150]!];
    writeFileSync(join(dir, "in.ndjson"), `${shuffled.join("\n")}\n`);

    const first = await cli(dir, "import", "in.ndjson");
    expect(first).toMatchObject({ code: 0, stdout: "imported 200 results (2 already present)\n" });
    const rows = storedRows(dir);
    expect(rows.map((r) => r.ts)).toEqual([...rows.map((r) => r.ts)].sort((a, b) => a - b));
    expect(rows).toHaveLength(200);

    const second = await cli(dir, "import", "in.ndjson");
    expect(second).toMatchObject({ code: 0, stdout: "imported 0 results (202 already present)\n" });
    expect(storedRows(dir)).toEqual(rows);
    expect(second.stderr).not.toContain("\r"); // no progress bar into a pipe
  });

  it("rejects a file with malformed lines as a whole, naming each FILE:LINE, and stores nothing", async () => {
    const dir = workDir();
    const lines = configuredResults(10);
    lines[2] = lines[2]!.replace('"status":200', '"status":700');
    lines[6] = "{not json";
    writeFileSync(join(dir, "bad.ndjson"), `${lines.join("\n")}\n`);
    const run = await cli(dir, "import", "bad.ndjson");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^bad\.ndjson:3: status must be an integer 100-599 or null, got 700$/m);
    expect(run.stderr).toMatch(/^bad\.ndjson:7: not valid JSON/m);
    expect(run.stderr).toMatch(/nothing stored: 2 invalid lines/);
    expect(storedRows(dir)).toEqual([]);
  });

  it("with --skip-invalid stores the valid lines and says how many it skipped", async () => {
    const dir = workDir();
    const lines = configuredResults(10);
    lines[4] = lines[4]!.replace('"error":null', '"error":"timeout"');
    writeFileSync(join(dir, "bad.ndjson"), `${lines.join("\n")}\n`);
    const run = await cli(dir, "import", "--skip-invalid", "bad.ndjson");
    expect(run).toMatchObject({ code: 0, stdout: "imported 9 results (0 already present)\n" });
    expect(run.stderr).toMatch(/^bad\.ndjson:5: error must be null when status is set/m);
    expect(run.stderr).toMatch(/^skipped 1 invalid lines$/m);
    expect(storedRows(dir)).toHaveLength(9);
  });

  it("refuses categories the configuration does not know unless --allow-unknown", async () => {
    const dir = workDir();
    const lines = [...generateResults(START, 3)].map(ndjsonLine);
    writeFileSync(join(dir, "other.ndjson"), `${lines.join("\n")}\n`);
    const refused = await cli(dir, "import", "other.ndjson");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^other\.ndjson:1: unknown probe "account-onboarding-probe"/m);
    const allowed = await cli(dir, "import", "--allow-unknown", "other.ndjson");
    expect(allowed).toMatchObject({ code: 0, stdout: "imported 3 results (0 already present)\n" });
  });

  it("without a readable config it needs --allow-unknown, and then uses --data-dir", async () => {
    const dir = workDir(false);
    writeFileSync(join(dir, "in.ndjson"), `${configuredResults(4).join("\n")}\n`);
    const refused = await cli(dir, "import", "in.ndjson");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/pass --config FILE, or --allow-unknown/);
    const run = await cli(dir, "import", "--allow-unknown", "--data-dir", "evidence", "in.ndjson");
    expect(run).toMatchObject({ code: 0, stdout: "imported 4 results (0 already present)\n" });
    expect(storedRows(dir)).toHaveLength(4);
  });
});

describe("slo-agent verify", () => {
  it("prints ok with the head, then exits 1 naming the record once a row is altered", async () => {
    const dir = workDir();
    writeFileSync(join(dir, "in.ndjson"), `${configuredResults(40).join("\n")}\n`);
    expect((await cli(dir, "import", "in.ndjson")).code).toBe(0);

    const ok = await cli(dir, "verify");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^ok: 40 records verified, head [0-9a-f]{64}\ncheckpoints signed by key [0-9a-f]{16}\n$/,
    );
    const month = await cli(dir, "verify", "--month", "2026-10");
    expect(month.stdout).toMatch(
      /^ok: 40 records verified, head [0-9a-f]{64}\ncheckpoints signed by key [0-9a-f]{16}\n$/,
    );

    const db = new Database(join(dir, "evidence", "evidence.sqlite"));
    db.exec("UPDATE results SET status = 200, duration_ms = 1 WHERE seq = 12");
    db.close();
    const altered = await cli(dir, "verify", "--data-dir", "evidence");
    expect(altered.code).toBe(1);
    expect(altered.stderr).toMatch(
      /^altered: record seq 12 \(probe payment-confirmation-probe, ts 2026-10-01T\d\d:\d\d:\d\d\.\d{3}Z\): /,
    );
  });

  it("exits 2 for a bad --month and for a directory without an evidence store", async () => {
    const dir = workDir();
    expect((await cli(dir, "verify", "--month", "2026-13")).code).toBe(2);
    const none = await cli(dir, "verify", "--data-dir", "nowhere");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no evidence store at \S*nowhere \(evidence\.sqlite not found\)/);
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
    const absent = await cli(dir, "verify", "--data-dir", "/nonexistent/slo-data");
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain("no evidence store at /nonexistent/slo-data (evidence.sqlite not found)");
    expect(readFileSync(join(dir, "slo.yaml"), "utf8")).toBe(SLO_YAML);
  });
});
