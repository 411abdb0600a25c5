import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { checkTimestampReply, timestampRequest } from "../../src/record/evidence/timestamp.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { sloYaml } from "../reports/month-scenario.js";
import { runCli } from "../support/cli.js";
import { makeTestTsa, type TestTsa } from "../support/test-tsa.js";

/**
 * RFC 3161 timestamps of statements against a real TSA: `openssl ts -reply` behind a loopback
 * HTTP server, with a CA and a TSA certificate made here. The tokens are checked with
 * `openssl ts -verify`, not with our code.
 */

const run = promisify(execFile);
const SLOW = 120_000;
const MONTH = "2026-03";
let dir: string;
/** The TSA (makeTestTsa): its CA is ca.pem, its `openssl ts -reply` configuration tsa.cnf. */
let testTsa: TestTsa;
let tsa: Server;
let tsaUrl: string;
let garbage: Server;
let garbageUrl: string;
/** A port nothing listens on: a TSA that is down. */
let downUrl: string;
let requests = 0;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`),
    ),
  );
}

/** Pipes each POSTed TimeStampReq through `openssl ts -reply`. */
function tsaServer(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests += 1;
      const query = join(dir, `q${requests}.tsq`);
      const reply = join(dir, `r${requests}.tsr`);
      if (req.headers["content-type"] !== "application/timestamp-query") {
        res.writeHead(415).end();
        return;
      }
      writeFileSync(query, Buffer.concat(chunks));
      run("openssl", [
        "ts",
        "-reply",
        "-config",
        join(testTsa.dir, "tsa.cnf"),
        "-queryfile",
        query,
        "-out",
        reply,
      ]).then(
        () => res.writeHead(200, { "content-type": "application/timestamp-reply" }).end(readFileSync(reply)),
        () => res.writeHead(500).end(),
      );
    });
  });
}

/** The CLI as a child process, without blocking this process's servers. */
function slo(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { cwd: dir, timeoutMs: 60_000 });
}

function config(name: string, url: string, caFile?: string): string {
  const file = join(dir, name);
  const ca = caFile === undefined ? "" : `  tsa_ca_file: ${caFile}\n`;
  writeFileSync(
    file,
    sloYaml("./data").replace(
      "  retention_days: 36500\n",
      `  retention_days: 36500\n  tsa_url: ${url}\n${ca}`,
    ),
  );
  return file;
}

/** A token signed again by a fresh key: the TSA's certificate stays, its signature no longer holds. */
async function resigned(reply: Buffer): Promise<Buffer> {
  const pkijs = await import("pkijs");
  const response = pkijs.TimeStampResp.fromBER(new Uint8Array(reply).buffer);
  const signed = new pkijs.SignedData({ schema: response.timeStampToken!.content });
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  await signed.sign(keys.privateKey, 0, "SHA-256");
  response.timeStampToken!.content = signed.toSchema(true);
  return Buffer.from(response.toSchema().toBER(false));
}

function results(): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = Date.UTC(2026, 2, 1); t < Date.UTC(2026, 2, 3); t += 3_600_000) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: 200,
      durationMs: 120,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-tsa-"));
  testTsa = makeTestTsa(dir, "Test TSA");
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock: new FakeClock(Date.UTC(2026, 3, 3)) });
  store.importResults(results());
  store.close();
  tsa = tsaServer();
  tsaUrl = await listen(tsa);
  garbage = createServer((_req, res) => res.writeHead(200).end("this is not DER"));
  garbageUrl = await listen(garbage);
  const closed = createServer();
  downUrl = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
}, SLOW);

afterAll(async () => {
  await Promise.all([tsa, garbage].map((s) => new Promise((resolve) => s?.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe("the time-stamp request", () => {
  it("is a DER TimeStampReq openssl reads: v1, SHA-256 of the data, our nonce, certReq", () => {
    const data = Buffer.from('{"month":"2026-03"}');
    const request = timestampRequest(data, Buffer.from("ffeeddccbbaa9988", "hex"));
    writeFileSync(join(dir, "unit.tsq"), request.der);
    const text = execFileSync("openssl", ["ts", "-query", "-in", join(dir, "unit.tsq"), "-text"], {
      encoding: "utf8",
    });
    expect(text).toMatch(/Version: 1/);
    expect(text).toMatch(/Hash Algorithm: sha256/);
    expect(text).toMatch(/Nonce: 0x7FEEDDCCBBAA9988/i);
    expect(text).toMatch(/Certificate required: yes/);
    const hex = request.imprint.toString("hex");
    const dump = text.replace(/[\s-]/g, "");
    expect(dump).toContain(hex.slice(0, 32));
    expect(dump).toContain(hex.slice(32));
  });

  it("takes a reply only for its own imprint and nonce", () => {
    const data = Buffer.from("statement");
    const request = timestampRequest(data);
    writeFileSync(join(dir, "own.tsq"), request.der);
    execFileSync(
      "openssl",
      ["ts", "-reply", "-config", join(testTsa.dir, "tsa.cnf"), "-queryfile", "own.tsq", "-out", "own.tsr"],
      {
        cwd: dir,
        stdio: "pipe",
      },
    );
    const reply = readFileSync(join(dir, "own.tsr"));
    expect(checkTimestampReply(reply, request)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const other = timestampRequest(Buffer.from("another statement"));
    expect(() => checkTimestampReply(reply, other)).toThrow(/other data/);
    expect(() => checkTimestampReply(reply, { ...request, nonce: Buffer.from([1]) })).toThrow(/nonce/);
    expect(() => checkTimestampReply(Buffer.from("garbage"), request)).toThrow();
  });
});

describe("report and evidence export with agent.tsa_url", () => {
  it(
    "the report carries a token openssl verifies against the statement's JCS bytes",
    async () => {
      const out = await slo([
        "report",
        "--config",
        config("ok.yaml", tsaUrl),
        "--month",
        MONTH,
        "--format",
        "json",
      ]);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      const evidence = JSON.parse(out.stdout).evidence;
      expect(evidence.timestamp.tsa_url).toBe(tsaUrl);
      expect(evidence.timestamp.gen_time).toMatch(/^20\d\d-/);
      const canonical = (await import("canonicalize")).default(evidence.statement)!;
      writeFileSync(join(dir, "report-statement.json"), canonical);
      writeFileSync(join(dir, "report.tsr"), Buffer.from(evidence.timestamp.tsr_base64, "base64"));
      const verified = execFileSync(
        "openssl",
        ["ts", "-verify", "-data", "report-statement.json", "-in", "report.tsr", "-CAfile", testTsa.caPem],
        { cwd: dir, encoding: "utf8", stdio: "pipe" },
      );
      expect(verified).toMatch(/Verification: OK/);
      // Other bytes than the statement's do not verify.
      writeFileSync(join(dir, "report-statement.json"), `${canonical} `);
      const forged = await run(
        "openssl",
        ["ts", "-verify", "-data", "report-statement.json", "-in", "report.tsr", "-CAfile", testTsa.caPem],
        { cwd: dir },
      ).then(
        () => "verified",
        () => "refused",
      );
      expect(forged).toBe("refused");
    },
    SLOW,
  );

  it(
    "the Markdown report names the TSA, the time and the token's serial number, as openssl reads the token",
    async () => {
      const out = await slo([
        "report",
        "--config",
        config("ok.yaml", tsaUrl),
        "--month",
        MONTH,
        "--format",
        "md",
      ]);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      // The TSA server kept the reply it sent: what openssl says of it is what the report must say.
      const text = execFileSync("openssl", ["ts", "-reply", "-in", join(dir, `r${requests}.tsr`), "-text"], {
        encoding: "utf8",
      });
      const serial = /^Serial number: (0x[0-9A-F]+)$/m.exec(text)![1]!;
      expect(out.stdout).toMatch(
        new RegExp(
          `time-stamp authority ${tsaUrl.replaceAll(".", "\\.")} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(serial number ${serial}, over SHA-256 [0-9a-f]{64}, the statement's\\)`,
        ),
      );
      expect(out.stdout).toContain(
        "    openssl ts -verify -data statement.json -in statement.tsr -CAfile tsa.pem",
      );
    },
    SLOW,
  );

  it(
    "the bundle's statement.tsr verifies with the command its README shows, and verify --bundle accepts it",
    async () => {
      const bundle = join(dir, "bundle");
      const out = await slo([
        "evidence",
        "export",
        "--config",
        config("ok.yaml", tsaUrl),
        "--month",
        MONTH,
        "--out",
        bundle,
      ]);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      expect(out.stdout).toContain(`timestamped by ${tsaUrl}`);
      const readme = readFileSync(join(bundle, "README.md"), "utf8");
      const command = "openssl ts -verify -data statement.json -in statement.tsr -CAfile ../tsa.pem";
      expect(readme).toContain(command);
      // Beside the bundle, as the README says: a file added to the bundle fails verify --bundle.
      writeFileSync(join(bundle, "..", "tsa.pem"), readFileSync(testTsa.caPem));
      const verified = execFileSync("sh", ["-c", command], { cwd: bundle, encoding: "utf8", stdio: "pipe" });
      expect(verified).toMatch(/Verification: OK/);
      expect(execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: bundle, encoding: "utf8" })).toContain(
        "statement.tsr: OK",
      );
      const check = await slo(["verify", "--bundle", bundle]);
      expect(check.stderr).toBe("");
      expect(check.code).toBe(0);
    },
    SLOW,
  );

  it(
    "verify --bundle checks the TSA's signature: --tsa-ca pins its CA, a token re-signed by another key is exit 1",
    async () => {
      const bundle = join(dir, "pinned-bundle");
      const out = await slo([
        "evidence",
        "export",
        "--config",
        config("ok.yaml", tsaUrl),
        "--month",
        MONTH,
        "--out",
        bundle,
      ]);
      expect(out.code).toBe(0);
      const pinned = await slo(["verify", "--bundle", bundle, "--tsa-ca", testTsa.caPem]);
      expect(pinned.stderr).toBe("");
      expect(pinned.code).toBe(0);
      expect(pinned.stdout).toContain("timestamped by CN=Test TSA (chains to the pinned TSA CA)");
      const unpinned = await slo(["verify", "--bundle", bundle]);
      expect(unpinned.stdout).toContain("TSA CA not pinned");
      const other = makeTestTsa(dir, "Other TSA");
      const foreign = await slo(["verify", "--bundle", bundle, "--tsa-ca", other.caPem]);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toMatch(
        /statement\.tsr: the TSA's certificate does not chain to the pinned TSA CA/,
      );
      const missing = await slo(["verify", "--bundle", bundle, "--tsa-ca", join(dir, "nope.pem")]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("cannot read the TSA CA file");
      // Re-signed with another key, SHA256SUMS brought along: only the TSA's signature tells.
      const tsrPath = join(bundle, "statement.tsr");
      const forged = await resigned(readFileSync(tsrPath));
      writeFileSync(tsrPath, forged);
      const sums = readFileSync(join(bundle, "SHA256SUMS"), "utf8").replace(
        /^[0-9a-f]{64}(?= [ *]statement\.tsr$)/m,
        createHash("sha256").update(forged).digest("hex"),
      );
      writeFileSync(join(bundle, "SHA256SUMS"), sums);
      const check = await slo(["verify", "--bundle", bundle]);
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(/altered: statement\.tsr: the TSA's signature does not verify/);
    },
    SLOW,
  );

  it(
    "with agent.tsa_ca_file, a token from a TSA of another CA is not kept: one warning, no timestamp",
    async () => {
      const other = makeTestTsa(dir, "Third TSA");
      const refused = await slo([
        "report",
        "--config",
        config("pin-other.yaml", tsaUrl, other.caPem),
        "--month",
        MONTH,
        "--format",
        "json",
      ]);
      expect(refused.code).toBe(0);
      expect(refused.stderr).toMatch(
        /warning: the statement is not timestamped: .*does not chain to the pinned TSA CA/,
      );
      expect(JSON.parse(refused.stdout).evidence.timestamp).toBeUndefined();
      const kept = await slo([
        "report",
        "--config",
        config("pin-ok.yaml", tsaUrl, testTsa.caPem),
        "--month",
        MONTH,
        "--format",
        "json",
      ]);
      expect(kept.stderr).toBe("");
      expect(JSON.parse(kept.stdout).evidence.timestamp.tsa_url).toBe(tsaUrl);
    },
    SLOW,
  );

  it.each([
    ["down", () => downUrl],
    ["answering garbage", () => garbageUrl],
  ])(
    "a TSA %s costs one warning line: report and bundle still come out, untimestamped",
    async (_what, url) => {
      const file = config("bad.yaml", url());
      const report = await slo(["report", "--config", file, "--month", MONTH, "--format", "json"]);
      expect(report.code).toBe(0);
      expect(report.stderr.trim().split("\n")).toHaveLength(1);
      expect(report.stderr).toMatch(
        /^slo-agent report: warning: the statement is not timestamped: http:\/\/127\.0\.0\.1:\d+\/tsa: \S/,
      );
      expect(report.stderr).not.toMatch(/\n\s+at /);
      expect(JSON.parse(report.stdout).evidence.timestamp).toBeUndefined();
      const bundle = mkdtempSync(join(dir, "bad-bundle-"));
      const exported = await slo(["evidence", "export", "--config", file, "--month", MONTH, "--out", bundle]);
      expect(exported.code).toBe(0);
      expect(exported.stderr.trim().split("\n")).toHaveLength(1);
      expect(exported.stderr).toContain("warning: the statement is not timestamped");
      expect(readFileSync(join(bundle, "SHA256SUMS"), "utf8")).not.toContain("statement.tsr");
      expect(readFileSync(join(bundle, "README.md"), "utf8")).not.toContain("statement.tsr");
    },
    SLOW,
  );
});
