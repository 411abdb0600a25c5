import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
/** Built once for every suite by test/global-build.ts. */
const CLI = join(ROOT, "dist/cli/main.js");
const dir = mkdtempSync(join(tmpdir(), "slo-json-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI; `until` on stdout sends SIGTERM (a daemon), else it waits for the exit. */
function cli(args: readonly string[], until?: RegExp): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "" },
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until?.test(stdout)) setTimeout(() => child.kill("SIGTERM"), 1_500);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every line of the text is one JSON object with the log record's level, time and msg. */
function records(text: string): { level: string; msg: string; [key: string]: unknown }[] {
  const lines = text.split("\n");
  expect(lines.pop(), "the last line is complete").toBe("");
  return lines.map((line) => {
    let parsed: unknown;
    expect(() => {
      parsed = JSON.parse(line);
    }, line).not.toThrow();
    expect(parsed, line).toEqual(
      expect.objectContaining({
        level: expect.any(String),
        time: expect.any(String),
        msg: expect.any(String),
      }),
    );
    return parsed as { level: string; msg: string };
  });
}

describe("--log-format json: every line on stdout and stderr is one JSON object", () => {
  it("demo: 'listening on' and 'simulator on' are records whose msg keeps the text", async () => {
    const run = await cli(
      ["demo", "--log-format", "json", "--listen", "127.0.0.1:0", "--every", "1s", "--data-dir", "demo"],
      /simulator on/,
    );
    const out = records(run.stdout);
    expect(out.map((r) => r.msg)).toEqual([
      expect.stringMatching(/^listening on http:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^simulator on http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    expect(out[0]?.url).toBe(out[0]?.msg.slice("listening on ".length));
    const err = records(run.stderr);
    expect(err.map((r) => r.msg)).toEqual(expect.arrayContaining(["agent started", "stopping"]));
    expect(run.code).toBe(0);
  }, 120_000);

  it("run: configuration warnings and the listening record, from the first line", async () => {
    writeFileSync(
      join(dir, "warned.yaml"),
      `version: 1
agent: {data_dir: ./run-data}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
  settlements: {title: Settlements, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  local: {base_url: "http://127.0.0.1:9", environment: playground, auth: {type: basic, username: "", password: x}}
probes:
  - {id: payment-request-probe, category: payment_request, target: local, every: 30s, path: /x}
`,
    );
    const run = await cli(
      ["run", "--log-format", "json", "--config", "warned.yaml", "--listen", "127.0.0.1:0"],
      /listening on/,
    );
    expect(records(run.stdout).map((r) => r.msg)).toEqual([
      expect.stringMatching(/^listening on http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    const err = records(run.stderr);
    expect(err[0]?.level).toBe("warn");
    expect(err.map((r) => r.msg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/empty username/),
        expect.stringMatching(/settlements: warning: no probe measures this category/),
      ]),
    );
    expect(run.code).toBe(0);
  }, 120_000);

  it.each([
    [
      "a configuration that does not load",
      ["run", "--config", "missing.yaml"],
      /missing\.yaml:1:1: .*file not found/,
    ],
    [
      "a bad --listen",
      ["run", "--config", "warned.yaml", "--listen", "nope"],
      /--listen: expected HOST:PORT/,
    ],
    ["an unknown option", ["run", "--bogus"], /unknown option '--bogus'/],
    ["an unknown option of demo", ["demo", "--log-format=json", "--bogus"], /unknown option '--bogus'/],
  ])(
    "start-up errors are records too: %s",
    async (_what, args, message) => {
      const withFlag = args.includes("--log-format=json") ? args : [...args, "--log-format", "json"];
      const run = await cli(withFlag);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      const err = records(run.stderr);
      // The configuration's warnings (warn) may come first; the reason it stopped is an error record.
      expect(err.every((r) => r.level === "error" || r.level === "warn")).toBe(true);
      expect(err.at(-1)?.level).toBe("error");
      expect(err.map((r) => r.msg)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    },
    60_000,
  );

  it("without the flag the stdout line stays the plain text scripts wait for", async () => {
    const run = await cli(["run", "--config", "warned.yaml", "--listen", "127.0.0.1:0"], /listening on/);
    expect(run.stdout).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
  }, 120_000);
});
