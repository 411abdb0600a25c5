import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryRoute } from "../../src/agent/summary-route.js";
import { FakeClock } from "../../src/clock/fake.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { FAILURE_REASONS } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { AgentKey } from "../../src/record/signing.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/store.js";
import { signAnswer } from "../../src/reports/agent-signature.js";
import { COUNTED_FLAGS } from "../../src/reports/classification.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * One honest agent (the real summary route over a real store) and one hostile agent on loopback
 * that serves whatever a test tells it: the honest summary replayed with inflated counts,
 * re-signed with its own key, negative or string counts, another month, an injected date. The
 * real CLI must merge only what pinned keys signed and what the schema accepts.
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
    let body = serve(path);
    if (path.includes("?")) {
      const relayed = await fetch(`${honest.url}${path}`, {
        headers: { authorization: `Bearer ${HONEST_TOKEN}` },
      });
      body = signAnswer((await relayed.json()) as object, hostileKey);
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
  for (const [what, edit, message] of [...pinnedButWrong, ...forgedStatements]) {
    it(`refuses ${what} even from a pinned key (exit 1, one line naming the agent)`, async () => {
      serve = () => signAnswer(tampered(edit), hostileKey);
      const run = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "both.pem")]);
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
    const run = await report(["--from-agents", hostileUrl, "--trust-keys", join(dir, "honest.pem")]);
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
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).merged_from.map((a: Loose) => a.agent)).toEqual(["a-eu", "a-hostile"]);
    expect(seenByHostile.length).toBeGreaterThan(0);
    expect(seenByHostile.every((h) => h === `Bearer ${HOSTILE_TOKEN}`)).toBe(true);
  }, 60_000);
});
