import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { importSloYaml } from "../record/import-config.js";
import { runCli } from "../support/cli.js";

// `slo-agent import` identifies a merchant request by its span id too, as the live store's unique
// index does: several requests in the same millisecond and route are several results.

const SLO_YAML = `${importSloYaml()}traffic:
  token: "0123456789abcdef0123"
  routes:
    - {method: POST, path: /payments/v1/sessions, target: klarna, category: payment_request}
`;

const T0 = Date.UTC(2026, 9, 1, 10);
const ROUTE = "traffic:POST /payments/v1/sessions";

function request(offsetMs: number, spanId: string, status = 201): string {
  return JSON.stringify({
    ts: new Date(T0 + offsetMs).toISOString(),
    probe: ROUTE,
    category: "payment_request",
    status,
    duration_ms: 12.5,
    error: null,
    correlation_id: spanId,
    source: "traffic",
  });
}

function probeLine(offsetMs: number, correlationId: string, status = 200): string {
  return JSON.stringify({
    ts: new Date(T0 + offsetMs).toISOString(),
    probe: "pr",
    category: "payment_request",
    status,
    duration_ms: 100,
    error: null,
    correlation_id: correlationId,
  });
}

const dirs: string[] = [];
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-traffic-import-"));
  dirs.push(dir);
  writeFileSync(join(dir, "slo.yaml"), SLO_YAML);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function cli(cwd: string, ...args: string[]) {
  const { code, stdout, stderr } = await runCli(args, { cwd });
  return { code: code ?? -1, stdout, stderr };
}

function storedSpans(dir: string): string[] {
  const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true });
  try {
    const rows = db
      .prepare("SELECT correlation_id, source FROM results WHERE probe = ? ORDER BY seq")
      .all(ROUTE) as { correlation_id: string; source: string | null }[];
    expect(rows.every((r) => r.source === "traffic")).toBe(true);
    return rows.map((r) => r.correlation_id);
  } finally {
    db.close();
  }
}

describe("import of merchant requests (contract section 19)", () => {
  it.each([
    ["in chain order", ["00000000000000a1", "00000000000000a2", "00000000000000a3"]],
    ["out of order (staged)", ["00000000000000a3", "00000000000000a1", "00000000000000a2"]],
  ])("keeps every request of one millisecond and route, once per span id: %s", async (_, spans) => {
    const dir = workDir();
    const lines = [
      request(-1000, "00000000000000f0"),
      ...spans.map((s) => request(0, s)),
      request(5, "00000000000000f1"),
    ];
    if (spans[0] === "00000000000000a3") lines.reverse();
    writeFileSync(join(dir, "t.ndjson"), `${lines.join("\n")}\n`);
    const first = await cli(dir, "import", "t.ndjson");
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("imported 5 results (0 already present)");
    expect(storedSpans(dir).sort()).toEqual([
      "00000000000000a1",
      "00000000000000a2",
      "00000000000000a3",
      "00000000000000f0",
      "00000000000000f1",
    ]);
    // A file imported again, or a request repeated in it, is stored once.
    writeFileSync(join(dir, "again.ndjson"), `${lines.join("\n")}\n${request(0, "00000000000000a2")}\n`);
    const again = await cli(dir, "import", "again.ndjson");
    expect(again.stdout).toContain("imported 0 results (6 already present)");
    expect((await cli(dir, "verify")).stdout).toMatch(/^ok: 5 records verified/);
  });

  it("refuses a request whose span id is stored with other content, naming it", async () => {
    const dir = workDir();
    writeFileSync(
      join(dir, "a.ndjson"),
      `${request(0, "00000000000000a1")}\n${request(0, "00000000000000a2")}\n`,
    );
    expect((await cli(dir, "import", "a.ndjson")).code).toBe(0);
    writeFileSync(join(dir, "b.ndjson"), `${request(0, "00000000000000a2", 503)}\n`);
    const refused = await cli(dir, "import", "b.ndjson");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("conflicting duplicate");
    // Within one file too.
    writeFileSync(
      join(dir, "c.ndjson"),
      `${request(9, "00000000000000b1")}\n${request(9, "00000000000000b1", 503)}\n`,
    );
    expect((await cli(dir, "import", "c.ndjson")).stderr).toContain(
      "c.ndjson:2: same probe and ts as line 1",
    );
  });

  it("checks a merchant request's route against traffic.routes as a probe's id against probes", async () => {
    const dir = workDir();
    const other = request(0, "00000000000000c1").replace(ROUTE, "traffic:GET /v2/accounts");
    writeFileSync(join(dir, "u.ndjson"), `${request(0, "00000000000000c0")}\n${other}\n`);
    const refused = await cli(dir, "import", "u.ndjson");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('u.ndjson:2: unknown probe "traffic:GET /v2/accounts"');
    expect(refused.stderr).not.toContain("u.ndjson:1:");
  });

  it("still identifies a probe's result by ts + probe + agent: another correlation id is a conflict", async () => {
    const dir = workDir();
    writeFileSync(join(dir, "p.ndjson"), `${probeLine(0, "c-1")}\n${probeLine(0, "c-2")}\n`);
    const refused = await cli(dir, "import", "p.ndjson");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("p.ndjson:2: same probe and ts as line 1");
  });
});
