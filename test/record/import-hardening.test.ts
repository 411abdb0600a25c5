import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { importSloYaml } from "./import-config.js";

// Each defect of issue 10 (import and report) reproduced through the real CLI on a real store.

const SLO_YAML = importSloYaml();

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
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-import-hard-"));
  dirs.push(dir);
  writeFileSync(join(dir, "slo.yaml"), SLO_YAML);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 9, 1);
function line(i: number, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ts: new Date(T0 + i * 30_000).toISOString(),
    probe: "pr",
    category: "payment_request",
    status: 200,
    duration_ms: 100,
    error: null,
    ...fields,
  });
}
const file = (dir: string, name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};

describe("import refuses what would corrupt the evidence", () => {
  it("a lone UTF-16 surrogate is refused with its line; the rest then imports and verifies clean", async () => {
    const dir = workDir();
    // JSON's \ud800 escape: valid JSON, but no UTF-8 form; it used to be stored as U+FFFD and read as altered.
    const bad = `${line(0)}\n${line(1).replace('"error":null', '"error":null,"error_code":"X\\ud800"')}\n${line(2, { detail: "a\u0007b" })}\n`;
    const refused = await cli(dir, "import", file(dir, "bad.ndjson", bad));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("bad.ndjson:2: error_code holds a lone UTF-16 surrogate (U+D800)");
    expect(refused.stderr).toContain("bad.ndjson:3: detail holds a control character (U+0007)");
    expect((await cli(dir, "import", "--skip-invalid", "bad.ndjson")).code).toBe(0);
    const pair = await cli(
      dir,
      "import",
      file(dir, "emoji.ndjson", `${line(5, { detail: "ok \u{1F600}" })}\n`),
    );
    expect(pair.code).toBe(0);
    const verified = await cli(dir, "verify");
    expect(verified.stdout).toMatch(/^ok: 2 records verified/);
  });

  it("a duration of 1e13 ms is refused (at most one day)", async () => {
    const dir = workDir();
    const run = await cli(dir, "import", file(dir, "long.ndjson", `${line(0, { duration_ms: 1e13 })}\n`));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "long.ndjson:1: duration_ms must be a number >= 0 and <= 86400000 (one day)",
    );
  });

  for (const ordered of [true, false]) {
    it(`conflicting duplicate lines are refused naming both lines (file ${ordered ? "in" : "out of"} order)`, async () => {
      const dir = workDir();
      const lines = ordered
        ? [line(0), line(1), line(1, { status: 503 }), line(2)]
        : [line(2), line(1), line(0), line(1, { status: 503 })];
      const run = await cli(dir, "import", file(dir, "dup.ndjson", `${lines.join("\n")}\n`));
      expect(run.code).toBe(2);
      const [later, earlier] = ordered ? [3, 2] : [4, 2];
      expect(run.stderr).toContain(
        `dup.ndjson:${later}: same probe and ts as line ${earlier}, with other content (conflicting duplicate)`,
      );
      expect(existsSync(join(dir, "evidence"))).toBe(false);
    });
  }

  it("a line conflicting with a stored record is refused naming the record; an exact repeat is idempotent", async () => {
    const dir = workDir();
    expect((await cli(dir, "import", file(dir, "a.ndjson", `${line(0)}\n${line(1)}\n`))).code).toBe(0);
    const again = await cli(dir, "import", file(dir, "b.ndjson", `${line(1)}\n${line(1)}\n${line(2)}\n`));
    expect(again.stdout).toBe("imported 1 results (2 already present)\n");
    const conflict = await cli(dir, "import", file(dir, "c.ndjson", `${line(0, { duration_ms: 7 })}\n`));
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain(
      "c.ndjson:1: probe pr at 2026-10-01T00:00:00.000Z is already stored (record seq 1)",
    );
  });

  it("a file starting with a UTF-8 byte order mark imports", async () => {
    const dir = workDir();
    const run = await cli(dir, "import", file(dir, "bom.ndjson", `\ufeff${line(0)}\r\n${line(1)}\r\n`));
    expect(run).toMatchObject({ code: 0, stdout: "imported 2 results (0 already present)\n" });
  });

  it("a refused import leaves no store and no data directory behind where there was none", async () => {
    const dir = workDir();
    const run = await cli(
      dir,
      "import",
      "--data-dir",
      "new/deeper",
      file(dir, "x.ndjson", `${line(0)}\nnot json\n`),
    );
    expect(run.code).toBe(2);
    expect(existsSync(join(dir, "new"))).toBe(false);
  });
});

describe("report latency", () => {
  async function reportOf(dir: string, lines: string[]) {
    expect((await cli(dir, "import", file(dir, "m.ndjson", `${lines.join("\n")}\n`))).code).toBe(0);
    const run = await cli(dir, "report", "--month", "2026-10", "--format", "json");
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout).categories[0];
  }

  it("a timeout recorded at 1 ms counts at the probe's timeout_ms and cannot lower p99", async () => {
    const lines = Array.from({ length: 10 }, (_, i) => line(i));
    lines.push(line(10, { status: null, error: "timeout", duration_ms: 1 }));
    const category = await reportOf(workDir(), lines);
    // 11 values, rank ceil(0.99 * 11) = 11: the timeout, at 10000 ms, not 1 ms.
    expect(category).toMatchObject({ latency_p99_ms: 10_000, latency_source: "exact", latency_met: false });
  });

  it("p99 is the exact nearest rank and latency_met is strict", async () => {
    const at = (ms: number) =>
      Array.from({ length: 100 }, (_, i) => line(i, { duration_ms: i === 99 ? 2000 : ms }));
    // 100 values: rank 99 is the largest of the 99 equal ones.
    expect(await reportOf(workDir(), at(1500))).toMatchObject({ latency_p99_ms: 1500, latency_met: true });
    // 1500.001 was within the histogram's 3-digit step and used to count as met.
    expect(await reportOf(workDir(), at(1500.001))).toMatchObject({
      latency_p99_ms: 1500.001,
      latency_met: false,
    });
  });
});

/** Makes `dir` unwritable even for root; returns how, and an undo, or null where neither works here. */
function readOnlyDir(dir: string): { how: string; undo: () => void } | null {
  try {
    execFileSync("chattr", ["+i", dir], { stdio: "ignore" });
    return { how: "chattr +i", undo: () => execFileSync("chattr", ["-i", dir]) };
  } catch {}
  try {
    const copy = mkdtempSync(join(tmpdir(), "slo-ro-copy-"));
    cpSync(dir, copy, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dir], { stdio: "ignore" });
    cpSync(copy, dir, { recursive: true });
    rmSync(copy, { recursive: true });
    execFileSync("mount", ["-o", "remount,ro", dir]);
    return { how: "read-only tmpfs", undo: () => execFileSync("umount", [dir]) };
  } catch {
    return null;
  }
}

describe("read-only stores", () => {
  it("verify and report work on a copy in a directory nothing can write to", async (ctx) => {
    const dir = workDir();
    expect((await cli(dir, "import", file(dir, "m.ndjson", `${line(0)}\n${line(1)}\n`))).code).toBe(0);
    const copy = join(dir, "copy");
    mkdirSync(copy);
    cpSync(join(dir, "evidence", "evidence.sqlite"), join(copy, "evidence.sqlite"));
    // The key its checkpoints need: without it verify is exit 1 naming the key id.
    cpSync(join(dir, "evidence", "agent-signing-key.pem"), join(copy, "agent-signing-key.pem"));
    const ro = readOnlyDir(copy);
    if (ro === null) return ctx.skip();
    try {
      expect(() => writeFileSync(join(copy, "probe-write"), "x")).toThrow();
      const verified = await cli(dir, "verify", "--data-dir", copy);
      expect(verified).toMatchObject({ code: 0 });
      expect(verified.stdout).toMatch(/^ok: 2 records verified/);
      const report = await cli(dir, "report", "--month", "2026-10", "--data-dir", copy, "--format", "json");
      expect(report.code).toBe(0);
      expect(JSON.parse(report.stdout).categories[0].requests).toBe(2);
    } finally {
      ro.undo();
    }
  });

  it("an open failure names the file and the cause", async () => {
    const dir = workDir();
    mkdirSync(join(dir, "broken"));
    writeFileSync(
      join(dir, "broken", "evidence.sqlite"),
      "not a database, just text that is long enough".repeat(20),
    );
    const run = await cli(dir, "verify", "--data-dir", "broken");
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `slo-agent verify: cannot open the evidence store ${join(dir, "broken", "evidence.sqlite")}: file is not a database (SQLITE_NOTADB)\n`,
    );
  });
});
