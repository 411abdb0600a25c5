// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the configuration holds literal ${NAME} references.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { runCli, sleep, spawnAgent, writeLoopbackConfig } from "./support.js";

/**
 * Canary secrets: credentials set to unmistakable values in the environment and in secret files,
 * sent by the real daemon to loopback servers, then searched for in everything the agent writes:
 * stdout and stderr (default logging and the most verbose), /metrics, the json/md/html/csv
 * reports and the SQLite file's bytes. Target `plain` gets the credentials and answers normally
 * (and redirects one probe to the echo server's origin); target `echo` answers every request with
 * every header it received in error_code, correlation_id, its body and Klarna-Correlation-Id.
 */
const PLAIN = {
  user: "CANARYplainUSER9f1c",
  password: "CANARYplainPASS4b7e",
  apiKey: "CANARYplainKEY2d8a",
};
const ECHO = { token: "CANARYechoTOKEN6c3f", apiKey: "CANARYechoKEY1e5b" };
const RUN_MS = 4_000;

/** Each secret, and the forms it travels in (the basic credentials as base64). */
function forms(values: readonly string[]): string[] {
  return values.flatMap((v) => [v, Buffer.from(v).toString("base64")]);
}
const PLAIN_CANARIES = [
  ...forms(Object.values(PLAIN)),
  Buffer.from(`${PLAIN.user}:${PLAIN.password}`).toString("base64"),
];
const ECHO_CANARIES = forms(Object.values(ECHO));

interface Outputs {
  /** Where -> text. */
  readonly logs: Map<string, string>;
  readonly metrics: Map<string, string>;
  readonly reports: Map<string, string>;
  readonly evidence: Map<string, string>;
}

function found(canaries: readonly string[], texts: ReadonlyMap<string, string>): string[] {
  return [...texts].flatMap(([where, text]) =>
    canaries.filter((c) => text.includes(c)).map((c) => `${c} in ${where}`),
  );
}

describe("canary secrets never leave the agent", () => {
  let plain: Loopback;
  let echo: Loopback;
  let dir: string;
  const received: string[] = [];
  const outputs: Outputs = { logs: new Map(), metrics: new Map(), reports: new Map(), evidence: new Map() };

  beforeAll(async () => {
    const headersOf = (req: IncomingMessage) => JSON.stringify(req.headers);
    echo = await httpServer({
      "/echo": (req, res) =>
        json(
          res,
          400,
          {
            error_code: req.headers.authorization ?? "none",
            correlation_id: String(req.headers["x-api-key"] ?? "none"),
            error_messages: [headersOf(req)],
          },
          { "klarna-correlation-id": req.headers.authorization ?? "none" },
        ),
    });
    plain = await httpServer({
      "/ok": (req, res) => {
        received.push(headersOf(req));
        json(res, 200, { status: "AUTHORIZED" });
      },
      "/fail": (_req, res) => json(res, 503, { error_code: "TEMPORARILY_UNAVAILABLE" }),
      "/away": (_req, res) => res.writeHead(302, { location: `${echo.origin}/echo` }).end(),
    });
    dir = mkdtempSync(join(tmpdir(), "slo-canary-"));
    mkdirSync(join(dir, "secrets"));
    writeFileSync(join(dir, "secrets", "password"), `${PLAIN.password}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "secrets", "token"), `${ECHO.token}\n`, { mode: 0o600 });
    const probe = (id: string, target: string, path: string, extra = "") =>
      `  - {id: ${id}, category: payment_request, target: ${target}, every: 1s, path: ${path}, timeout_ms: 2000${extra}}`;
    writeLoopbackConfig(
      dir,
      [
        `  plain: {base_url: "${plain.origin}", environment: simulator, auth: {type: basic, username: "\${CANARY_USER}", password_file: secrets/password}, headers: {X-Api-Key: "\${CANARY_PLAIN_KEY}"}}`,
        `  echo: {base_url: "${echo.origin}", environment: simulator, auth: {type: bearer, token_file: secrets/token}, headers: {X-Api-Key: "\${CANARY_ECHO_KEY}"}}`,
      ],
      [
        probe("plain-ok", "plain", "/ok"),
        probe("plain-fail", "plain", "/fail"),
        probe("plain-redirected", "plain", "/away", ", follow_redirects: 1"),
        probe("echo", "echo", "/echo"),
      ],
    );
    const env = {
      PATH: process.env.PATH ?? "",
      CANARY_USER: PLAIN.user,
      CANARY_PLAIN_KEY: PLAIN.apiKey,
      CANARY_ECHO_KEY: ECHO.apiKey,
    };
    // Default logging, and the most verbose the agent offers (its output holds every other level's).
    const help = await runCli(["run", "--help"], { env, timeoutMs: 120_000 });
    const verbose = help.stdout.includes("--log-level") ? ["--log-level", "debug", "--debug"] : ["--debug"];
    for (const [name, flags] of [
      ["default", []],
      ["verbose", verbose],
    ] as const) {
      const agent = spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0", ...flags], {
        cwd: dir,
        env,
      });
      const url = await agent.listening(90_000);
      await sleep(RUN_MS);
      for (const path of ["/metrics", "/healthz", "/readyz"]) {
        const response = await fetch(`${url}${path}`);
        outputs.metrics.set(`${name} ${path}`, await response.text());
      }
      agent.child.kill("SIGTERM");
      await agent.exited;
      outputs.logs.set(`${name} stdout`, agent.output().stdout);
      outputs.logs.set(`${name} stderr`, agent.output().stderr);
    }
    const month = new Date().toISOString().slice(0, 7);
    for (const format of ["json", "md", "html", "csv"]) {
      const out = await runCli(
        [
          "report",
          "--month",
          month,
          "--config",
          "slo.yaml",
          "--format",
          format,
          "--out",
          `report.${format}`,
          "--debug",
        ],
        { cwd: dir, env, timeoutMs: 120_000 },
      );
      if (out.code !== 0) throw new Error(`report --format ${format}: exit ${out.code}: ${out.stderr}`);
      outputs.logs.set(`report ${format} stdout+stderr`, out.stdout + out.stderr);
      outputs.reports.set(`report.${format}`, readFileSync(join(dir, `report.${format}`), "utf8"));
    }
    for (const file of readdirSync(join(dir, "evidence"))) {
      outputs.evidence.set(`evidence/${file}`, readFileSync(join(dir, "evidence", file)).toString("latin1"));
    }
  }, 290_000);

  afterAll(async () => {
    await plain?.close();
    await echo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sent the canary credentials to the target (so their absence below means something)", () => {
    expect(received.length).toBeGreaterThan(2);
    expect(received.join("\n")).toContain(Buffer.from(`${PLAIN.user}:${PLAIN.password}`).toString("base64"));
    expect(received.join("\n")).toContain(PLAIN.apiKey);
    expect(outputs.evidence.get("evidence/evidence.sqlite")).toContain("plain-ok");
    for (const format of ["json", "md", "html", "csv"])
      expect(outputs.reports.get(`report.${format}`)).toContain("payment");
  });

  it("no credential appears in logs, /metrics, reports or evidence (none followed the redirect)", () => {
    expect(found(PLAIN_CANARIES, outputs.logs)).toEqual([]);
    expect(found(PLAIN_CANARIES, outputs.metrics)).toEqual([]);
    expect(found(PLAIN_CANARIES, outputs.reports)).toEqual([]);
    expect(found(PLAIN_CANARIES, outputs.evidence)).toEqual([]);
  });

  it("an echoing server's copy of the credentials reaches no log or /metrics", () => {
    expect(found(ECHO_CANARIES, outputs.logs)).toEqual([]);
    expect(found(ECHO_CANARIES, outputs.metrics)).toEqual([]);
  });

  it("an echoing server's copy of the credentials is scrubbed before it is hashed: not in evidence or reports", () => {
    expect(found(ECHO_CANARIES, outputs.evidence)).toEqual([]);
    expect(found(ECHO_CANARIES, outputs.reports)).toEqual([]);
  });
});
