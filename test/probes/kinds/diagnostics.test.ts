import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProbeEvents } from "../../../src/agent/events.js";
import { systemClock } from "../../../src/clock/system.js";
import { renderStatusPage } from "../../../src/export/index.js";
import type { Control, ProbeSpec } from "../../../src/model/config.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../../../src/model/result.js";
import { CONTROL_CATEGORY } from "../../../src/model/validity.js";
import { controlProbe, ProbeRunner } from "../../../src/probes/index.js";
import type { DnsProbeSpec } from "../../../src/probes/kinds/dns.js";
import type { TcpProbeSpec } from "../../../src/probes/kinds/tcp.js";
import type { TlsProbeSpec } from "../../../src/probes/kinds/tls.js";
import { openEvidenceStore } from "../../../src/record/index.js";
import { ControlTimeline, RollingWindows } from "../../../src/slo/index.js";
import { fixtureConfig } from "../../support/slo-config.js";
import { type DnsServer, startDnsServer } from "./dns-server.js";
import { makePki, type Pki } from "./pki.js";

const DAY_S = 86_400;
const base = {
  category: DIAGNOSTIC_CATEGORY,
  target: null,
  schedule: { kind: "every", intervalMs: 60_000 },
  timeoutMs: 3_000,
  writes: false,
  source: { file: "probes/diagnostics.yaml", line: 1 },
} as const;

const tls = (id: string, port: number, caFile: string | null, minDays = 14): TlsProbeSpec => ({
  ...base,
  kind: "tls",
  id,
  host: "localhost",
  port,
  minDays,
  caFile,
});

/** Runs each spec once through the runner (the agent's path: no target, the harness, the sink). */
async function runOnce(...specs: ProbeSpec[]): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  const runner = new ProbeRunner({
    clock: systemClock,
    config: fixtureConfig({ probes: specs }),
    sink: { record: (r) => results.push(r) },
  });
  for (const spec of specs) expect(await runner.execute(spec, Date.now())).toBe("performed");
  await runner.close();
  return results;
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

let pki: Pki;
let healthy: Server;
let expiring: Server;
let brokenChain: Server;
let plainTcp: Server;
let dns: DnsServer;
const ports: Record<string, number> = {};

beforeAll(async () => {
  pki = makePki();
  const serve = (leaf: { key: string; cert: string }, withIntermediate: boolean) =>
    createTlsServer(
      { key: leaf.key, cert: withIntermediate ? leaf.cert + pki.intermediate : leaf.cert },
      (s) => s.end(),
    );
  healthy = serve(pki.leaf(90), true);
  expiring = serve(pki.leaf(5), true);
  // The intermediate left out: a client that trusts the root cannot build the chain.
  brokenChain = serve(pki.leaf(90), false);
  plainTcp = createNetServer((s) => s.end());
  ports.healthy = await listening(healthy);
  ports.expiring = await listening(expiring);
  ports.broken = await listening(brokenChain);
  ports.tcp = await listening(plainTcp);
  dns = await startDnsServer({ "api.example.test": "192.0.2.10" });
}, 30_000);

afterAll(async () => {
  for (const s of [healthy, expiring, brokenChain, plainTcp]) await new Promise((r) => s.close(r));
  await dns.close();
  pki.remove();
});

describe("kind: tls", () => {
  it("a valid chain with 90 days left succeeds and reports expiry, protocol and cipher", async () => {
    const [r] = await runOnce(tls("cert-ok", ports.healthy!, pki.rootFile));
    expect(r).toMatchObject({ probe: "cert-ok", category: DIAGNOSTIC_CATEGORY, status: null, error: null });
    expect(r!.observed).toMatchObject({ kind: "tls", chain_valid: true, protocol: "TLSv1.3" });
    expect(typeof r!.observed!.cipher).toBe("string");
    const expiry = r!.observed!.expiry_seconds as number;
    expect(expiry).toBeGreaterThan(89 * DAY_S);
    expect(expiry).toBeLessThanOrEqual(90 * DAY_S);
    expect(r!.phases?.tlsMs).toBeGreaterThan(0);
  });

  it("a certificate expiring in 5 days fails under min_days 14 as tls / cert_expiring", async () => {
    const [r] = await runOnce(tls("cert-soon", ports.expiring!, pki.rootFile));
    expect(r).toMatchObject({ status: null, error: "tls" });
    expect(r!.observed).toMatchObject({ kind: "tls", chain_valid: true, reason: "cert_expiring" });
    const expiry = r!.observed!.expiry_seconds as number;
    expect(expiry).toBeGreaterThan(4 * DAY_S);
    expect(expiry).toBeLessThanOrEqual(5 * DAY_S);
    expect(r!.detail).toMatch(/^certificate expires in (4\.\d|5\.0) days \(min_days 14\)$/);
  });

  it("the same certificate passes when min_days is below the days left", async () => {
    const [r] = await runOnce(tls("cert-soon-ok", ports.expiring!, pki.rootFile, 3));
    expect(r).toMatchObject({ error: null });
  });

  it("a server that leaves out the intermediate fails as tls / chain_invalid, its expiry still read", async () => {
    const [r] = await runOnce(tls("cert-chain", ports.broken!, pki.rootFile));
    expect(r).toMatchObject({ status: null, error: "tls" });
    expect(r!.observed).toMatchObject({
      kind: "tls",
      chain_valid: false,
      chain_error: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      reason: "chain_invalid",
    });
    expect(r!.observed!.expiry_seconds as number).toBeGreaterThan(89 * DAY_S);
  });

  it("without the private root the chain is not trusted (the system's CAs only)", async () => {
    const [r] = await runOnce(tls("cert-untrusted", ports.healthy!, null));
    expect(r!.observed).toMatchObject({ chain_valid: false, reason: "chain_invalid" });
  });

  it("a CA file that cannot be read is the agent's error, never the target's", async () => {
    const [r] = await runOnce(tls("cert-nofile", ports.healthy!, "/nonexistent/root.pem"));
    expect(r!.flags).toContain("agent_error");
  });
});

describe("kind: tcp", () => {
  const tcp = (id: string, port: number): TcpProbeSpec => ({
    ...base,
    kind: "tcp",
    id,
    host: "127.0.0.1",
    port,
  });

  it("a listener: success with the connect time", async () => {
    const [r] = await runOnce(tcp("tcp-ok", ports.tcp!));
    expect(r).toMatchObject({
      status: null,
      error: null,
      observed: { kind: "tcp", address: `127.0.0.1:${ports.tcp}` },
    });
    expect(r!.phases?.connectMs).toBeGreaterThan(0);
    expect(r!.durationMs).toBeGreaterThanOrEqual(r!.phases!.connectMs!);
  });

  it("a closed port: connect", async () => {
    const closed = createNetServer();
    const port = await listening(closed);
    await new Promise((r) => closed.close(r));
    const [r] = await runOnce(tcp("tcp-closed", port));
    expect(r).toMatchObject({ status: null, error: "connect", errorCode: null });
    expect(r!.detail).toContain("ECONNREFUSED");
  });
});

describe("kind: dns", () => {
  const dnsSpec = (id: string, name: string, server: string | null): DnsProbeSpec => ({
    ...base,
    kind: "dns",
    id,
    name,
    recordType: "A",
    server,
  });

  it("a name the server knows: NOERROR and its addresses", async () => {
    const [r] = await runOnce(dnsSpec("dns-ok", "api.example.test", dns.server));
    expect(r).toMatchObject({
      status: null,
      error: null,
      observed: { kind: "dns", rcode: "NOERROR", addresses: ["192.0.2.10"], server: dns.server },
    });
    expect(r!.phases?.dnsMs).toBeGreaterThan(0);
  });

  it("a name it does not know: dns / nxdomain with rcode NXDOMAIN", async () => {
    const [r] = await runOnce(dnsSpec("dns-nx", "missing.example.test", dns.server));
    expect(r).toMatchObject({
      error: "dns",
      observed: { kind: "dns", rcode: "NXDOMAIN", addresses: [], reason: "nxdomain" },
    });
  });

  it("the system resolver resolves localhost", async () => {
    const [r] = await runOnce(dnsSpec("dns-system", "localhost", null));
    expect(r).toMatchObject({ error: null, observed: { kind: "dns", rcode: "NOERROR" } });
    expect(r!.observed!.addresses).toContain("127.0.0.1");
  });

  it("no server on the named port: a failure with a reason (connect, or timeout at the deadline)", async () => {
    const silent = await startDnsServer({});
    const port = Number(silent.server.split(":")[1]);
    await silent.close();
    const [r] = await runOnce({
      ...dnsSpec("dns-silent", "api.example.test", `127.0.0.1:${port}`),
      timeoutMs: 500,
    });
    expect(r!.error === "timeout" || r!.error === "connect").toBe(true);
  });
});

describe("diagnostic results in the evidence store", () => {
  it("are kept with their observed detail in the hashed form, and the chain verifies", async () => {
    const results = await runOnce(
      tls("cert-soon", ports.expiring!, pki.rootFile),
      { ...base, kind: "tcp", id: "tcp-ok", host: "127.0.0.1", port: ports.tcp! },
      { ...base, kind: "dns", id: "dns-ok", name: "api.example.test", recordType: "A", server: dns.server },
    );
    const dataDir = mkdtempSync(join(tmpdir(), "slo-kinds-"));
    try {
      const store = openEvidenceStore({ dataDir, clock: systemClock, logger: () => {}, checkpoints: false });
      for (const r of results) store.record(r);
      store.flush();
      const back = [...store.results({ from: 0, to: Date.now() + 1 })];
      expect(back.map((r) => r.observed)).toEqual(
        [...results].sort((a, b) => a.ts - b.ts || (a.probe < b.probe ? -1 : 1)).map((r) => r.observed),
      );
      expect(store.verify().ok).toBe(true);
      store.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("diagnostic results in the agent's event log", () => {
  it("a tls/dns/tcp success is no probe failure; one that says why is", () => {
    const lines: { message: string; fields: unknown }[] = [];
    const events = new ProbeEvents({
      clock: systemClock,
      log: (_level, message, fields) => lines.push({ message, fields }),
      targetOf: () => undefined,
    });
    const diagnostic = {
      ts: Date.now(),
      category: DIAGNOSTIC_CATEGORY,
      status: null,
      durationMs: 3,
      errorCode: null,
      correlationId: null,
    };
    events.observe({ ...diagnostic, probe: "api-tcp", error: null, observed: { kind: "tcp" } });
    expect(lines.filter((l) => l.message === "probe failure")).toEqual([]);
    events.observe({
      ...diagnostic,
      probe: "api-cert",
      error: "tls",
      observed: { kind: "tls", reason: "cert_expiring" },
    });
    expect(lines.filter((l) => l.message === "probe failure")).toHaveLength(1);
    // Failures of several diagnostics in a row are no "category outage" of the reserved category.
    for (let i = 0; i < 5; i++)
      events.observe({ ...diagnostic, ts: diagnostic.ts + i, probe: `p${i}`, error: "dns" });
    expect(lines.filter((l) => l.message.startsWith("category outage"))).toEqual([]);
  });
});

describe("diagnostics on /status", () => {
  it("one row per probe with its latest state and detail; no section without diagnostics", () => {
    const snapshot = new RollingWindows(fixtureConfig()).snapshot(Date.now());
    const model = { snapshot, titles: new Map(), maintenance: [], alerts: [], failures: [], version: "test" };
    const at = Date.UTC(2026, 11, 6);
    const row = {
      ts: at,
      category: DIAGNOSTIC_CATEGORY,
      status: null,
      durationMs: 3,
      errorCode: null,
      correlationId: null,
    };
    const page = renderStatusPage({
      ...model,
      diagnostics: [
        {
          ...row,
          probe: "api-tcp",
          error: null,
          observed: { kind: "tcp" },
          detail: "connected to 127.0.0.1:443",
        },
        {
          ...row,
          probe: "api-cert",
          error: "tls",
          observed: { kind: "tls" },
          detail: "certificate expires in 5.0 days (min_days 14)",
        },
      ],
    });
    expect(page).toContain("<h2>Diagnostics</h2>");
    expect(page).toContain(
      '<tr><td>api-cert</td><td>tls</td><td><b class="bad">tls</b></td><td>certificate expires in 5.0 days (min_days 14)</td>',
    );
    expect(page).toContain('<tr><td>api-tcp</td><td>tcp</td><td><b class="ok">ok</b></td>');
    expect(renderStatusPage(model)).not.toContain("Diagnostics");
  });
});

describe("tcp and dns as controls (contract section 18)", () => {
  const control = (kind: Control["kind"], url: string): Control => ({
    id: "egress",
    kind,
    url,
    intervalMs: 10_000,
    timeoutMs: 2_000,
  });

  it("a tcp control connects to the URL's host and port; a dns control resolves its host", async () => {
    const tcp = controlProbe(control("tcp", `http://127.0.0.1:${ports.tcp}/ignored`)).spec;
    const dnsSpec = controlProbe(control("dns", "https://localhost/")).spec;
    expect(tcp).toMatchObject({
      kind: "tcp",
      id: "control:egress",
      category: CONTROL_CATEGORY,
      host: "127.0.0.1",
      port: ports.tcp,
    });
    expect(controlProbe(control("tcp", "https://egress.example")).spec).toMatchObject({ port: 443 });
    const [up, resolved] = await runOnce(tcp, dnsSpec);
    expect(up).toMatchObject({
      probe: "control:egress",
      category: CONTROL_CATEGORY,
      status: null,
      error: null,
    });
    expect(resolved).toMatchObject({ error: null, observed: { kind: "dns", rcode: "NOERROR" } });
  });

  it("its results are judged as an HTTP control's with the same outcomes (answered, then failing)", async () => {
    const closed = createNetServer();
    const port = await listening(closed);
    await new Promise((r) => closed.close(r));
    const [up] = await runOnce(controlProbe(control("tcp", `http://127.0.0.1:${ports.tcp}`)).spec);
    const [down] = await runOnce(controlProbe(control("tcp", `http://127.0.0.1:${port}`)).spec);
    expect(down).toMatchObject({ error: "connect", observed: { kind: "tcp" } });
    const T0 = Date.UTC(2026, 11, 6);
    const series = (answered: ProbeResult, failed: ProbeResult) => [
      ...[0, 1, 2, 3].map((i) => ({ ...answered, ts: T0 + i * 10_000 })),
      { ...failed, ts: T0 + 40_000 },
    ];
    const httpUp = { ...up!, status: 200, error: null, observed: null };
    const httpDown = { ...down!, status: null, error: "connect" as const, observed: null };
    const judge = (results: ProbeResult[]) => {
      const timeline = new ControlTimeline([control("tcp", "http://127.0.0.1")], 1);
      for (const r of results) timeline.add(r);
      return timeline.judgeAt(T0 + 40_500);
    };
    const tcpJudgement = judge(series(up!, down!));
    expect(tcpJudgement).toEqual(judge(series(httpUp, httpDown)));
    expect(tcpJudgement).toMatchObject({ witnessed: [{ control: "egress", error: "connect" }] });
    // Answering, it witnesses nothing.
    expect(judge(series(up!, { ...up!, ts: 0 }))).toBeNull();
  });
});
