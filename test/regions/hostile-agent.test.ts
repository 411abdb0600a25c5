import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryRoute } from "../../src/agent/summary-route.js";
import { agentUrls, reportFromAgents, TOKEN_ENV } from "../../src/cli/commands/report-agents.js";
import { CheckFailed, EXIT_CHECK_FAILED, EXIT_USAGE, UsageError } from "../../src/cli/errors.js";
import { FakeClock } from "../../src/clock/fake.js";
import { systemClock } from "../../src/clock/system.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { FAILURE_REASONS } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { AgentKey } from "../../src/record/evidence/signing.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/store.js";
import { parseTrustedKeys, signAnswer } from "../../src/reports/agent-signature.js";
import { COUNTED_FLAGS } from "../../src/reports/classification.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * One honest agent (the real summary route over a real store) and one hostile agent on loopback
 * that serves whatever a test tells it: the honest summary replayed with inflated counts,
 * re-signed with its own key, negative or string counts, another month, an injected date. The
 * real CLI must merge only what pinned keys signed and what the schema accepts.
 *
 * Each CLI process costs about a CPU-second to start, so a table of refusals sends its first case
 * through the real CLI (exit 1, the one line on stderr, nothing on stdout) and the others through
 * the function that command calls (`merged`), against the same hostile server.
 */
// biome-ignore lint/suspicious/noExplicitAny: a hostile agent's JSON, edited field by field
type Loose = any;
const ROOT = join(import.meta.dirname, "../..");
const MAIN = join(ROOT, "dist/cli/main.js");
const NOW = Date.parse("2026-11-20T12:00:00.000Z");
const MONTH = "2026-11";
/** When the honest agent answers: after the month ended, so its statement covers the whole month. */
const AFTER = Date.parse("2026-12-01T00:05:00.000Z");
let routeNow = AFTER;
const HONEST_TOKEN = "honest-agent-token-0b6e7d41c2";
const HOSTILE_TOKEN = "hostile-agent-token-93f0aa17";

let dir: string;
let store: EvidenceStore;
let honest: MetricsServer;
let hostile: Server;
let hostileUrl: string;
let honestBody: Loose;
const hostileKey = new AgentKey(generateKeyPairSync("ed25519").privateKey);
/** What the hostile agent answers to the summary; tails are relayed from the honest agent. */
let serve: (path: string) => unknown = () => ({});
const seenByHostile: string[] = [];
/** How the hostile agent changes the honest agent's tail before signing it with its own key. */
let editTail: (tail: Loose) => void = () => undefined;
/** When set, the hostile server is on the path to the honest agent: it only rewrites the URL. */
let onPath: ((path: string) => string) | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-hostile-agent-"));
  store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock: new FakeClock(NOW),
    identity: { agent: "a-eu", region: "eu" },
  });
  for (let i = 0; i < 300; i++) {
    store.record({
      ts: NOW - 3_600_000 + i * 1000,
      probe: "payment-request-read",
      category: "payment_request",
      status: i % 5 === 0 ? 503 : 200,
      durationMs: 100 + i * 4,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  store.flush();
  const base = fixtureConfig();
  const config = { ...base, agent: { ...base.agent, id: "a-eu", apiToken: new Secret(HONEST_TOKEN) } };
  honest = await startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: { serveScrape: () => undefined },
    ready: () => true,
    routes: [summaryRoute({ config: () => config, store, now: () => routeNow })],
  });
  honestBody = await (
    await fetch(`${honest.url}/api/v1/months/${MONTH}/summary`, {
      headers: { authorization: `Bearer ${HONEST_TOKEN}` },
    })
  ).json();
  writeFileSync(join(dir, "honest.pem"), store.signingKey()!.publicKeyPem);
  writeFileSync(
    join(dir, "both.pem"),
    `# eu\n${store.signingKey()!.publicKeyPem}# hostile\n${hostileKey.publicKeyPem}`,
  );
  hostile = createServer(async (request, response) => {
    seenByHostile.push(request.headers.authorization ?? "");
    const path = request.url ?? "/";
    if (onPath !== null) {
      // An on-path attacker without a key: rewrites the question, relays the genuine answer.
      const relayed = await fetch(`${honest.url}${onPath(path)}`, {
        headers: { authorization: `Bearer ${HONEST_TOKEN}` },
      });
      response.writeHead(relayed.status, { "content-type": "application/json" });
      response.end(await relayed.text());
      return;
    }
    let body = serve(path);
    if (path.includes("?")) {
      const relayed = await fetch(`${honest.url}${path}`, {
        headers: { authorization: `Bearer ${HONEST_TOKEN}` },
      });
      const tail = (await relayed.json()) as Loose;
      editTail(tail);
      body = signAnswer(tail, hostileKey);
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await honest?.close();
  await new Promise((resolve) => hostile?.close(resolve));
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

function report(args: readonly string[], env: Record<string, string> = {}): Promise<Cli> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [MAIN, "report", "--month", MONTH, "--config", join(dir, "none.yaml"), ...args],
      {
        env: { ...process.env, SLO_AGENT_API_TOKEN: HONEST_TOKEN, ...env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * What `report --from-agents URL --trust-keys FILE` does after parsing its flags, in this process:
 * the same merge (reportFromAgents, over HTTP to the same agents), its refusals mapped to exit
 * codes as the CLI maps them (CheckFailed is exit 1 with its message as the one stderr line,
 * UsageError exit 2), which the cases through the real CLI assert.
 */
async function merged(trustFile: string, urls = hostileUrl): Promise<Cli> {
  try {
    const trust = parseTrustedKeys(readFileSync(trustFile, "utf8"));
    const env = { [TOKEN_ENV]: HONEST_TOKEN };
    const merge = await reportFromAgents(agentUrls(urls), MONTH, env, trust, systemClock);
    return { code: 0, stdout: JSON.stringify(merge), stderr: "" };
  } catch (error) {
    if (error instanceof CheckFailed)
      return { code: EXIT_CHECK_FAILED, stdout: "", stderr: `${error.message}\n` };
    if (error instanceof UsageError) return { code: EXIT_USAGE, stdout: "", stderr: `${error.message}\n` };
    throw error;
  }
}

/** A table's first case through the real CLI, the others through the same merge in-process. */
function refusalOf(trustFile: string, throughCli: boolean): Promise<Cli> {
  return throughCli ? report(["--from-agents", hostileUrl, "--trust-keys", trustFile]) : merged(trustFile);
}

/** " (through the CLI)" for a table's first case: its name says which cases start a process. */
const viaCli = (i: number) => (i === 0 ? " (through the CLI)" : "");

/** The honest summary changed by `edit`, without its signature (a test re-signs it or not). */
function tampered(edit: (s: Loose) => void): Loose {
  const copy = structuredClone(honestBody) as Loose;
  edit(copy);
  return copy;
}

/** The statement rewritten by `edit` and signed again with the hostile agent's key. */
const restated = (edit: (statement: Loose) => void) => (s: Loose) => {
  edit(s.report.evidence.statement);
  s.report.evidence.signature = hostileKey.sign(s.report.evidence.statement);
};

/** An incident with every field the report shows, in `category` from `start` to `end`. */
function incidentOf(category: string, start: string, end: string): Loose {
  return {
    category,
    start,
    end,
    duration_ms: Math.max(0, Date.parse(end) - Date.parse(start)),
    recovered: true,
    requests: 10,
    failed_requests: 10,
    failures: [],
    error_codes: [],
    correlation_ids: [],
    result_flags: Object.fromEntries(COUNTED_FLAGS.map((f) => [f, 0])),
    body_errors: Object.fromEntries(FAILURE_REASONS.map((f) => [f, 0])),
  };
}

const inflate = (s: Loose) => {
  for (const row of s.report.categories) row.successful = row.requests;
};

describe("report --from-agents against a hostile agent", () => {
  it("merges the honest agent alone when its key is pinned", async () => {
    const run = await report([
      "--from-agents",
      honest.url,
      "--trust-keys",
      join(dir, "honest.pem"),
      "--format",
      "json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const merged = JSON.parse(run.stdout);
    const payments = merged.categories.find((c: Loose) => c.category === "payment_request");
    expect(payments.requests).toBe(300);
    expect(payments.successful).toBe(240);
    expect(merged.evidence.verified).toBe(true);
  }, 60_000);

  it("takes the pinned keys from regions.trusted_keys_file of the configuration", async () => {
    const config = join(dir, "slo.yaml");
    writeFileSync(
      config,
      [
        "version: 1",
        "agent: {region: eu, listen: 127.0.0.1:0}",
        "service_classes:",
        "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
        "categories:",
        "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}",
        "targets:",
        "  klarna: {base_url: http://127.0.0.1:9}",
        "probes:",
        "  - {id: p, category: payment_request, target: klarna, every: 30s, path: /}",
        "regions: {trusted_keys_file: honest.pem}",
        "",
      ].join("\n"),
    );
    const ok = await report(["--config", config, "--from-agents", honest.url, "--format", "json"]);
    expect(ok.code, ok.stderr).toBe(0);
    serve = () => signAnswer(tampered(inflate), hostileKey);
    const refused = await report(["--config", config, "--from-agents", hostileUrl]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("which --trust-keys does not pin");
  }, 60_000);

  it("refuses inflated counts replayed under the honest signature (exit 1, naming the agent)", async () => {
    serve = () => tampered(inflate);
    const run = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "honest.pem")], {
      SLO_AGENT_API_TOKEN: HOSTILE_TOKEN,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `slo-agent report --from-agents: the agent at ${hostileUrl}: its answer's signature does not verify under its pinned key ${store.signingKey()!.keyId}\n`,
    );
    expect(run.stdout).toBe("");
  }, 60_000);

  it("refuses a summary re-signed by a key that is not pinned, and one not signed at all", async () => {
    serve = () => signAnswer(tampered(inflate), hostileKey);
    const run = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "honest.pem")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the agent at ${hostileUrl}: it signed with key ${hostileKey.keyId}, which --trust-keys does not pin`,
    );
    serve = () => tampered((s) => delete s.signature);
    const unsigned = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "honest.pem")]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain("its answer is not signed");
  }, 60_000);

  const pinnedButWrong: [string, (s: Loose) => void, RegExp][] = [
    ["negative counts", (s) => (s.report.categories[0].requests = -50), /categories\.0\.requests/],
    ["string counts", (s) => (s.report.categories[0].requests = "18131"), /categories\.0\.requests/],
    ["fractional counts", (s) => (s.measured.payment_request.month.requests = 1.5), /measured/],
    [
      "successful > requests",
      (s) => (s.report.categories[0].successful = s.report.categories[0].requests + 1),
      /successful exceeds requests/,
    ],
    [
      "another month",
      (s) => {
        s.month = "2026-10";
        s.report.month = "2026-10";
      },
      /answered for 2026-10, not 2026-11/,
    ],
    [
      "a date that is markup",
      (s) => (s.report.daily[0].date = '2026-11-01"><meta http-equiv="refresh" content="0;url=about:blank">'),
      /daily\.0\.date: a date YYYY-MM-DD/,
    ],
    [
      "a date outside the month",
      (s) => (s.report.daily[0].date = "2026-12-01"),
      /2026-12-01 is not a day of 2026-11/,
    ],
    [
      "an ESC sequence in a category title",
      (s) => (s.report.categories[0].title = "\u001b[31mPayment\u001b[0m"),
      /report\.categories\.0\.title: a control or invisible character/,
    ],
    [
      "a right-to-left override in the provider name",
      (s) => (s.report.context.provider = "Kla\u202Erna"),
      /report\.context\.provider: a control or invisible character/,
    ],
    [
      "a C1 control in a service class title",
      (s) => (s.report.service_classes[0].title = "Trans\u009bactions"),
      /report\.service_classes\.0\.title: a control or invisible character/,
    ],
    [
      "a line separator in a category title",
      (s) => (s.report.categories[0].title = "Payment\u2028Request"),
      /report\.categories\.0\.title: a control or invisible character/,
    ],
    [
      "a zero-width space in the provider name",
      (s) => (s.report.context.provider = "Kla\u200Brna"),
      /report\.context\.provider: a control or invisible character/,
    ],
    [
      "a byte order mark in a service class title",
      (s) => (s.report.service_classes[0].title = "\uFEFFTransactions"),
      /report\.service_classes\.0\.title: a control or invisible character/,
    ],
    [
      "Unicode tag characters hiding text in a title",
      (s) => (s.report.categories[0].title = "Payment\u{E0069}\u{E0067}\u{E006E}"),
      /report\.categories\.0\.title: a control or invisible character/,
    ],
    [
      "an incident that ends before it starts",
      (s) =>
        (s.report.incidents = [
          incidentOf("payment_request", "2026-11-20T11:00:00.000Z", "2026-11-20T10:00:00.000Z"),
        ]),
      /report\.incidents\.0: it ends before it starts/,
    ],
    [
      "an incident of a category the report does not have",
      (s) =>
        (s.report.incidents = [incidentOf("bogus", "2026-11-20T10:00:00.000Z", "2026-11-20T11:00:00.000Z")]),
      /report\.incidents: unknown category bogus/,
    ],
    [
      "a data gap that ends before it starts",
      (s) => (s.report.data_gaps = [{ start: "2026-11-20T11:00:00.000Z", end: "2026-11-20T10:00:00.000Z" }]),
      /report\.data_gaps\.0: it ends before it starts/,
    ],
    [
      "a minimal incident",
      (s) => (s.report.incidents = [{ category: "payment_request", start: "2026-11-20T11:00:00.000Z" }]),
      /report\.incidents\.0\.end/,
    ],
    [
      "another agent's id than its signed statement names",
      (s) => (s.agent = "a-other"),
      /it says it is agent "a-other" but its signed statement names "a-eu"/,
    ],
    [
      "a record count other than its signed statement's",
      (s) => (s.report.evidence.records += 1),
      /its signed statement/,
    ],
    [
      "a signed statement of another month",
      (s) => (s.report.evidence.statement.month = "2026-10"),
      /its signed statement is for "2026-10", not 2026-11/,
    ],
    [
      "a report of another month than the summary's",
      (s) => (s.report.month = "2026-10"),
      /answered for 2026-10, not 2026-11/,
    ],
    [
      "an unknown category",
      (s) => (s.latency_counts.bogus = { month: 1, days: [] }),
      /unknown category bogus/,
    ],
  ];
  const forgedStatements: [string, (s: Loose) => void, RegExp][] = [
    [
      "a statement another agent id than the honest one signed, re-signed under its own answer",
      (s) => {
        s.agent = "a-other";
        s.report.evidence.statement.agent = "a-other";
      },
      /its statement is signed with key [0-9a-f]{16}, not the key [0-9a-f]{16} that signed its answer/,
    ],
    [
      "a statement whose record count it changed under the old statement signature",
      (s) => {
        s.report.evidence.signature = { ...s.report.evidence.signature, key_id: hostileKey.keyId };
        s.report.evidence.statement.records += 1;
        s.report.evidence.records += 1;
      },
      /its signed statement does not verify under its pinned key/,
    ],
    [
      "more requests than its signed statement has records",
      (s) => {
        restated((st) => (st.records = 10))(s);
        s.report.evidence.records = 10;
      },
      /its summary counts 300 requests but its signed statement only 10 records/,
    ],
    [
      "a statement made before the month ended (a replayed partial month)",
      restated((st) => (st.generated_at = "2026-11-20T12:00:00.000Z")),
      /before 2026-11 ended: an earlier statement replayed/,
    ],
    [
      "a statement made in the future",
      restated((st) => (st.generated_at = "2099-01-01T00:00:00.000Z")),
      /generated_at "2099-01-01T00:00:00.000Z" is not between the start of 2026-11 and now/,
    ],
  ];
  for (const [i, [what, edit, message]] of [...pinnedButWrong, ...forgedStatements].entries()) {
    it(`refuses ${what} even from a pinned key (exit 1, one line naming the agent)${viaCli(i)}`, async () => {
      serve = () => signAnswer(tampered(edit), hostileKey);
      const run = await refusalOf(join(dir, "both.pem"), i === 0);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(`^slo-agent report --from-agents: the agent at ${hostileUrl}: .*\\n$`),
      );
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    }, 60_000);
  }

  it("refuses the honest agent's own earlier statement of the month, replayed after the month ended", async () => {
    routeNow = NOW;
    const midMonth = await (
      await fetch(`${honest.url}/api/v1/months/${MONTH}/summary`, {
        headers: { authorization: `Bearer ${HONEST_TOKEN}` },
      })
    ).json();
    routeNow = AFTER;
    serve = () => midMonth;
    const run = await merged(join(dir, "honest.pem"));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toBe(
      `slo-agent report --from-agents: the agent at ${hostileUrl}: its signed statement was made at 2026-11-20T12:00:00.000Z, before 2026-11 ended: an earlier statement replayed, not the whole month\n`,
    );
  }, 60_000);

  it("refuses a key pinned for one agent id signing as another, and one key pinned for two ids", async () => {
    const labelled = join(dir, "labelled.pem");
    writeFileSync(
      labelled,
      `agent: a-eu\n${store.signingKey()!.publicKeyPem}# agent: a-hostile\n${hostileKey.publicKeyPem}`,
    );
    // The hostile key signs a complete, self-consistent summary and statement naming a-eu.
    serve = () => signAnswer(tampered(restated(() => undefined)), hostileKey);
    const posing = await report(["--from-agents", hostileUrl, "--trust-keys", labelled]);
    expect(posing.code, posing.stderr).toBe(1);
    expect(posing.stderr).toBe(
      `slo-agent report --from-agents: the agent at ${hostileUrl}: it signs as agent "a-eu" with key ${hostileKey.keyId}, which is pinned for agent a-hostile\n`,
    );
    // Unbound, the same answer passes: the binding is what refuses it.
    const unbound = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "both.pem")]);
    expect(unbound.code, unbound.stderr).toBe(0);
    const twice = join(dir, "twice.pem");
    writeFileSync(twice, `agent: a-eu\n${hostileKey.publicKeyPem}agent: a-na\n${hostileKey.publicKeyPem}`);
    const refused = await report(["--from-agents", hostileUrl, "--trust-keys", twice]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `key 2: key ${hostileKey.keyId} is pinned for agent a-eu and again for a-na`,
    );
  }, 60_000);

  it("refuses an answer larger than 16 MiB without reading it whole (exit 1, naming the agent)", async () => {
    const filler = "x".repeat(1024 * 1024);
    serve = () => ({ ...honestBody, padding: Array.from({ length: 20 }, () => filler) });
    const run = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "both.pem")]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toBe(
      `slo-agent report --from-agents: the agent at ${hostileUrl}: its answer is larger than 16 MiB\n`,
    );
  }, 60_000);

  it("refuses two summaries of one agent (exit 1)", async () => {
    serve = () => honestBody;
    const run = await report([
      "--from-agents",
      `${honest.url},${hostileUrl}`,
      "--trust-keys",
      join(dir, "both.pem"),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the agent at ${hostileUrl}: it is the same agent "a-eu" as ${honest.url}`);
  }, 60_000);

  it("refuses --from-agents without trusted keys (exit 2); --insecure-unsigned stamps every format UNVERIFIED", async () => {
    const refused = await report(["--from-agents", honest.url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--trust-keys");
    for (const [format, stamp] of [
      ["json", '"verified": false'],
      ["md", "UNVERIFIED"],
      ["html", "UNVERIFIED"],
      ["csv", ",UNVERIFIED"],
    ]) {
      const run = await report(["--from-agents", honest.url, "--insecure-unsigned", "--format", format!]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.replace(/"verified":false/g, '"verified": false')).toContain(stamp);
    }
  }, 120_000);

  it("sends each agent only its own token with URL#token-env=NAME", async () => {
    serve = () =>
      signAnswer(
        tampered((s) => {
          s.agent = "a-hostile";
          s.region = "na";
          restated((st) => (st.agent = "a-hostile"))(s);
        }),
        hostileKey,
      );
    // Its tails are the honest agent's, signed by it under its own name.
    editTail = (t) => (t.agent = "a-hostile");
    seenByHostile.length = 0;
    const run = await report(
      [
        "--from-agents",
        `${honest.url}#token-env=EU_TOKEN,${hostileUrl}#token-env=NA_TOKEN`,
        "--trust-keys",
        join(dir, "both.pem"),
        "--format",
        "json",
      ],
      { SLO_AGENT_API_TOKEN: "", EU_TOKEN: HONEST_TOKEN, NA_TOKEN: HOSTILE_TOKEN },
    );
    editTail = () => undefined;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).merged_from.map((a: Loose) => a.agent)).toEqual(["a-eu", "a-hostile"]);
    expect(seenByHostile.length).toBeGreaterThan(0);
    expect(seenByHostile.every((h) => h === `Bearer ${HOSTILE_TOKEN}`)).toBe(true);
  }, 60_000);
});

/** A summary the hostile (pinned) agent makes self-consistently its own: statement and answer re-signed. */
function resigned(edit: (s: Loose) => void): Loose {
  return signAnswer(
    tampered((s) => {
      edit(s);
      restated(() => undefined)(s);
    }),
    hostileKey,
  );
}

const PAY = "payment_request";
/** The index of payment_request's first day with durations, and of a day without any. */
const busyDay = (s: Loose) => s.latency_counts[PAY].days.findIndex((n: number) => n > 0);
const quietDay = (s: Loose) => s.latency_counts[PAY].days.findIndex((n: number) => n === 0);
const dailyOf = (s: Loose, day: number) =>
  s.report.daily.filter((r: Loose) => r.category === PAY)[day] as Loose;

describe("report --from-agents against a pinned agent whose figures disagree with each other", () => {
  const inconsistent: [string, (s: Loose) => void, RegExp][] = [
    [
      "50 times more latency-counted durations than requests",
      (s) => {
        const extra = s.report.categories[0].requests * 49;
        s.latency_counts[PAY].month += extra;
        s.latency_counts[PAY].days[busyDay(s)] += extra;
      },
      /latency_counts\.payment_request\.month: more durations than requests/,
    ],
    [
      "a month latency count its days do not add up to",
      (s) => (s.latency_counts[PAY].month -= 1),
      /latency_counts\.payment_request: the days do not add up to the month/,
    ],
    [
      "a day's latency count above that day's requests",
      (s) => {
        s.latency_counts[PAY].days[busyDay(s)] -= 5;
        s.latency_counts[PAY].days[quietDay(s)] += 5;
      },
      /daily 2026-11-\d\d payment_request: more durations \(latency_counts\) than requests/,
    ],
    [
      "more excluded requests than requests measured",
      (s) => (s.report.categories[0].excluded = s.report.categories[0].requests * 3),
      /category payment_request: more requests or excluded requests than it measured/,
    ],
    [
      "measured counts of the month that its days do not add up to",
      (s) => (s.measured[PAY].month = { requests: 1, served: 0 }),
      /measured\.payment_request: the days do not add up to the month/,
    ],
    [
      "a day of 1000 requests in a month of 300",
      (s) => Object.assign(dailyOf(s, busyDay(s)), { requests: 1000, served: 0 }),
      /daily: the rows of payment_request do not add up to the month's requests, successful and excluded/,
    ],
    [
      "a day's availability other than its served / requests",
      (s) => (dailyOf(s, busyDay(s)).availability_pct = 3),
      /daily 2026-11-\d\d payment_request: availability_pct is not served \/ requests/,
    ],
    [
      "a category's availability other than its successful / requests",
      (s) => (s.report.categories[0].availability_pct = 12.5),
      /category payment_request: availability_pct is not successful \/ requests/,
    ],
    [
      "a measured availability other than its measured counts'",
      (s) => (s.report.categories[0].measured_availability_pct = 100),
      /category payment_request: measured_availability_pct is not its measured counts'/,
    ],
    [
      "a p99 of its own other than the nearest rank of its own durations",
      (s) => (s.report.categories[0].latency_p99_ms = 99_999),
      /category payment_request: latency_p99_ms 99999 is not the nearest rank of its own durations/,
    ],
    [
      "a day's p99 other than the nearest rank of that day's durations",
      (s) => (dailyOf(s, busyDay(s)).latency_p99_ms = 1),
      /daily 2026-11-\d\d payment_request: latency_p99_ms is not the nearest rank of its own durations/,
    ],
    [
      "negative merchant-side minutes",
      (s) => (s.report.categories[0].merchant_side_excluded_minutes = -50),
      /categories\.0\.merchant_side_excluded_minutes/,
    ],
    [
      "merchant-side minutes finer than a hundredth",
      (s) => {
        s.report.categories[0].merchant_side_excluded_minutes = 0.001;
        dailyOf(s, busyDay(s)).merchant_side_excluded_minutes = 0.001;
      },
      /category payment_request: merchant_side_excluded_minutes not to one hundredth of a minute/,
    ],
    [
      "a day of 3000 merchant-side minutes",
      (s) => {
        s.report.categories[0].merchant_side_excluded_minutes = 3000;
        dailyOf(s, busyDay(s)).merchant_side_excluded_minutes = 3000;
      },
      /daily payment_request: merchant_side_excluded_minutes above the 1440 minutes of a day/,
    ],
    [
      "month merchant-side minutes its days do not add up to",
      (s) => (s.report.categories[0].merchant_side_excluded_minutes = 999),
      /category payment_request: merchant_side_excluded_minutes is not the sum of its days'/,
    ],
    [
      "a million agent_error flags",
      (s) => (s.report.categories[0].result_flags.agent_error = 1e6),
      /category payment_request: a result_flags count above its requests/,
    ],
    [
      "a million body errors",
      (s) => (s.report.categories[0].body_errors.timeout = 1e6),
      /category payment_request: more body_errors than requests/,
    ],
    [
      "a measurement problem of a billion requests",
      (s) =>
        s.report.categories[0].measurement_problems.push({
          kind: "target_unreached",
          requests: 1e9,
          first: "2026-11-02T00:00:00.000Z",
          last: "2026-11-02T01:00:00.000Z",
        }),
      /category payment_request: a measurement problem of more requests than it measured/,
    ],
    [
      "an incident of more requests than its category",
      (s) =>
        s.report.incidents.push({
          ...incidentOf(PAY, "2026-11-02T00:00:00.000Z", "2026-11-02T01:00:00.000Z"),
          requests: 999_999,
          failed_requests: 999_999,
        }),
      /incident 2026-11-02T00:00:00.000Z payment_request: more requests than its category/,
    ],
    [
      "an incident of more failed requests than requests, and more flags than failed requests",
      (s) => {
        const incident = incidentOf(PAY, "2026-11-02T00:00:00.000Z", "2026-11-02T01:00:00.000Z");
        incident.result_flags.agent_error = 11;
        s.report.incidents.push(incident);
      },
      /incident 2026-11-02T00:00:00.000Z payment_request: a result_flags or body_errors count above its failed requests/,
    ],
    [
      "an automatic exclusion of more requests than its categories excluded",
      (s) =>
        s.report.automatic_exclusions.push({
          reason: "agent_error",
          start: "2026-11-02T00:00:00.000Z",
          end: "2026-11-03T00:00:00.000Z",
          categories: [PAY],
          requests: 123_456,
          evidence: { failures: [] },
        }),
      /automatic exclusion 2026-11-02T00:00:00.000Z: more requests than its categories excluded/,
    ],
    [
      "a coverage ratio other than recorded / expected",
      (s) => Object.assign(s.report.coverage, { ratio: 0.01, expected_probes: 99_999_999 }),
      /coverage: ratio is not recorded_probes \/ expected_probes/,
    ],
    [
      "more probes recorded than results measured",
      (s) => {
        s.report.coverage.recorded_probes = 99_999_999;
        s.report.coverage.expected_probes = 99_999_999;
        s.report.coverage.ratio = 1;
      },
      /coverage: more recorded probes than results measured/,
    ],
    [
      "a latency incident's p99 above its largest duration",
      (s) =>
        s.report.latency_incidents.push({
          category: PAY,
          start: "2026-11-02T03:00:00.000Z",
          end: "2026-11-02T04:00:00.000Z",
          p99_ms: 987_654,
          requests: 5,
        }),
      /latency incident 2026-11-02T03:00:00.000Z payment_request: p99_ms 987654 above its largest duration/,
    ],
  ];
  for (const [i, [what, edit, message]] of inconsistent.entries()) {
    it(`refuses ${what} (exit 1, one line naming the agent and the rule)${viaCli(i)}`, async () => {
      serve = () => resigned(edit);
      editTail = () => undefined;
      const run = await refusalOf(join(dir, "both.pem"), i === 0);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(`^slo-agent report --from-agents: the agent at ${hostileUrl}: .*\\n$`),
      );
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    }, 60_000);
  }

  it("merges the same agent's self-consistent re-signed summary and tail (the checks refuse only lies)", async () => {
    serve = () => resigned(() => undefined);
    editTail = () => undefined;
    const run = await report([
      "--from-agents",
      hostileUrl,
      "--trust-keys",
      join(dir, "both.pem"),
      "--format",
      "json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const row = JSON.parse(run.stdout).categories.find((c: Loose) => c.category === PAY);
    expect(row.regions[0]).toMatchObject({ requests: 300, successful: 240, availability_pct: 80 });
    expect(row.regions[0].latency_p99_ms).toBe(row.latency_p99_ms);
  }, 60_000);

  const shift = (list: number[]) => list.map((v) => v + 5000);
  const lyingTails: [string, (t: Loose) => void, RegExp][] = [
    [
      "durations of 1e300 ms",
      (t) => (t.month_ms = t.month_ms.map(() => 1e300)),
      /month_ms: a duration above 86400000 ms/,
    ],
    [
      "more durations than asked",
      (t) => (t.month_ms = [99_999, ...t.month_ms]),
      /month_ms: 5 durations, asked for 4/,
    ],
    ["no month durations", (t) => (t.month_ms = []), /days_ms\.\d+: a duration above the month's largest/],
    [
      "no durations at all",
      (t) => {
        t.month_ms = [];
        t.days_ms = t.days_ms.map(() => []);
      },
      /month_ms: 0 durations, asked for 4/,
    ],
    ["durations not largest first", (t) => t.month_ms.reverse(), /month_ms: not largest first/],
    [
      "a month tail above its days' tails",
      (t) => (t.month_ms = shift(t.month_ms)),
      /month_ms: its largest duration is not the largest of its days'/,
    ],
    [
      "day tails above the month tail",
      (t) => (t.days_ms = t.days_ms.map(shift)),
      /days_ms\.\d+: a duration above the month's largest/,
    ],
    [
      "month and day tails both above its own p99",
      (t) => {
        t.month_ms = shift(t.month_ms);
        t.days_ms = t.days_ms.map(shift);
      },
      /category payment_request: latency_p99_ms \d+ is not the nearest rank of its own durations/,
    ],
    [
      "another category's durations",
      (t) => (t.category = "settlements"),
      /it answered category "settlements"/,
    ],
    ["an answer to top=1", (t) => (t.top = 1), /it answered top 1, not the 4 asked/],
    [
      "another month's tail",
      (t) => (t.month = "2026-10"),
      /it answered month "2026-10", not the "2026-11" asked/,
    ],
    ["another agent's tail", (t) => (t.agent = "a-na"), /it answered agent "a-na", not the "a-eu" asked/],
    ["a tail without its question", (t) => delete t.top, /top:/],
  ];
  for (const [i, [what, edit, message]] of lyingTails.entries()) {
    it(`refuses a latency tail with ${what} (exit 1, naming the agent)${viaCli(i)}`, async () => {
      serve = () => resigned(() => undefined);
      editTail = edit;
      const run = await refusalOf(join(dir, "both.pem"), i === 0);
      editTail = () => undefined;
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(`^slo-agent report --from-agents: the agent at ${hostileUrl}: its latency tail: .*\\n$`),
      );
      expect(run.stderr).toMatch(message);
    }, 60_000);
  }

  const rewrites: [string, (path: string) => string, RegExp][] = [
    [
      "top=4 rewritten to top=1 on the path",
      (path) => path.replace(/top=\d+/, "top=1"),
      /its latency tail: it answered top 1, not the 4 asked/,
    ],
    [
      "the tail's month rewritten on the path",
      (path) => (path.includes("?") ? path.replace("2026-11", "2026-10") : path),
      /its latency tail: it answered month "2026-10", not the "2026-11" asked/,
    ],
  ];
  for (const [i, [what, rewrite, message]] of rewrites.entries()) {
    it(`refuses the honest agent's genuine signed answer to a question with ${what}${viaCli(i)}`, async () => {
      onPath = rewrite;
      const run = await refusalOf(join(dir, "honest.pem"), i === 0);
      onPath = null;
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(message);
    }, 60_000);
  }

  it("escapes the control and invisible characters of a hostile key it names in the refusal", async () => {
    serve = () =>
      resigned((s) => (s.latency_counts["pay\u001b]0;PWNED\u0007\u202e"] = { month: 1, days: [] }));
    const run = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "both.pem")]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(
      "latency_counts.pay\\u{1B}]0;PWNED\\u{7}\\u{202E}: a control or invisible character",
    );
    for (const raw of ["\u001b", "\u0007", "\u202e"]) expect(run.stderr).not.toContain(raw);
  }, 60_000);

  // Format characters, default-ignorables and separators the earlier list of code points missed.
  const invisible = [0x2060, 0x200c, 0x200d, 0x00ad, 0x3164, 0x115f, 0xfe0f, 0x034f, 0x180e, 0xfff9];
  for (const [i, point] of invisible.entries()) {
    const hex = point.toString(16).toUpperCase().padStart(4, "0");
    it(`refuses an invisible U+${hex} in a category title${viaCli(i)}`, async () => {
      serve = () => resigned((s) => (s.report.categories[0].title = `Pay${String.fromCodePoint(point)}ment`));
      const run = await refusalOf(join(dir, "both.pem"), i === 0);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain("report.categories.0.title: a control or invisible character");
    }, 60_000);
  }
});

describe("the trusted keys file and the agent's listener", () => {
  const labelCases: [string, (eu: string, hostile: string) => string][] = [
    [
      "a comment line between agent: and its key",
      (eu, hostile) => `${eu}agent: a-hostile\n# NA team\n${hostile}`,
    ],
    ["a blank-looking id", (eu, hostile) => `${eu}agent: a hostile!\n${hostile}`],
    ["two agent: lines before one key", (eu, hostile) => `${eu}agent: a-na\nagent: a-hostile\n${hostile}`],
    ["an agent: line after the last key", (eu, hostile) => `${eu}${hostile}agent: a-hostile\n`],
  ];
  const unbound = /an "agent:" line (binds nothing|after the last key)/;
  for (const [i, [what, file]] of labelCases.entries()) {
    const text = () => file(store.signingKey()!.publicKeyPem, hostileKey.publicKeyPem);
    if (i === 0) {
      it(`refuses a key file with ${what} (exit 2, through the CLI): the key would be left unbound`, async () => {
        const path = join(dir, "label-case.pem");
        writeFileSync(path, text());
        serve = () => resigned(() => undefined);
        const run = await report(["--from-agents", hostileUrl, "--trust-keys", path]);
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toMatch(unbound);
      }, 60_000);
    } else {
      // The command reads the file with parseTrustedKeys; the case above maps its refusal to exit 2.
      it(`refuses a key file with ${what}: the key would be left unbound`, () => {
        expect(() => parseTrustedKeys(text())).toThrow(unbound);
      });
    }
  }

  it("answers a request with two Host headers 400, whichever comes first", async () => {
    const { port } = new URL(honest.url);
    for (const hosts of ["Host: 127.0.0.1\r\nHost: evil.example", "Host: evil.example\r\nHost: 127.0.0.1"]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1");
        let text = "";
        socket.on("data", (chunk) => (text += chunk));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
        socket.write(
          `GET /api/v1/months/${MONTH}/summary HTTP/1.1\r\n${hosts}\r\nAuthorization: Bearer ${HONEST_TOKEN}\r\nConnection: close\r\n\r\n`,
        );
      });
      expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
    }
  }, 60_000);
});
