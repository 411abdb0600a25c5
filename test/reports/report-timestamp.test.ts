import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statementBytes, timestampTokenInfo } from "../../src/record/index.js";
import { renderHtml } from "../../src/reports/html.js";
import { renderMarkdown } from "../../src/reports/markdown.js";
import type { MonthlyReport } from "../../src/reports/model.js";
import { REPO } from "./cli-run.js";
import { sampleReport } from "./sample-report.js";

/**
 * The statement's RFC 3161 timestamp in Markdown and HTML. The token is a fixture a real
 * `openssl ts -reply` TSA made over the statement below (test/fixtures/reports/sample-statement.tsr,
 * its CA beside it); what the report says of it is checked against openssl, not our DER reader.
 */

const FIXTURES = join(REPO, "test/fixtures/reports");
const TSR = readFileSync(join(FIXTURES, "sample-statement.tsr"));
const GOLDEN = join(FIXTURES, "timestamped-evidence.md");
const STATEMENT = {
  agent: "probe-host-1",
  agent_version: "0.1.0",
  chain: "verified",
  config_sha256: "cd".repeat(32),
  first_seq: 1,
  generated_at: "2026-03-01T08:00:00.000Z",
  kind: "slo-agent/monthly-evidence/v1",
  last_seq: 16128,
  month: "2026-02",
  records: 16128,
  sha256: "ab".repeat(32),
};
const GEN_TIME = "2026-12-01T23:40:46.000Z";

function timestamped(tsrBase64 = TSR.toString("base64")): MonthlyReport {
  const report = sampleReport();
  return {
    ...report,
    evidence: {
      ...report.evidence,
      verified: true,
      statement: STATEMENT,
      timestamp: { tsa_url: "http://127.0.0.1:8318/tsa", tsr_base64: tsrBase64, gen_time: GEN_TIME },
    },
  };
}

let dir: string;
let openssl: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-ts-"));
  openssl = execFileSync(
    "openssl",
    ["ts", "-reply", "-in", join(FIXTURES, "sample-statement.tsr"), "-text"],
    {
      encoding: "utf8",
    },
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the statement's RFC 3161 timestamp in Markdown and HTML", () => {
  it("the token's serial number and imprint read as openssl prints them", () => {
    const info = timestampTokenInfo(TSR);
    expect(openssl).toContain(`Serial number: ${info.serial}`);
    const imprint = [...openssl.matchAll(/^ {4}00[0-9a-f]0 - (.*?) {2}/gm)]
      .map((m) => m[1]!.replaceAll(/[ -]/g, ""))
      .join("");
    expect(info.imprintSha256).toBe(imprint);
    expect(info.genTime).toBe(GEN_TIME);
  });

  it("Markdown names the TSA, the time, the serial number and the imprint, and matches its golden file", () => {
    const md = renderMarkdown(timestamped());
    const block = md.slice(md.indexOf("The statement is timestamped"), md.indexOf("Anyone holding"));
    const info = timestampTokenInfo(TSR);
    expect(block).toContain("http://127.0.0.1:8318/tsa at 2026-12-01 23:40:46 UTC");
    expect(block).toContain(`serial number ${info.serial}`);
    expect(block).toContain(`SHA-256 ${info.imprintSha256}, the statement's`);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, block);
    expect(block).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("the command the report prints verifies the token with openssl", () => {
    const md = renderMarkdown(timestamped());
    const command = /^ {4}(openssl ts -verify .*)$/m.exec(md)![1]!;
    writeFileSync(join(dir, "statement.json"), statementBytes(STATEMENT));
    writeFileSync(join(dir, "statement.tsr"), TSR);
    copyFileSync(join(FIXTURES, "sample-tsa-ca.pem"), join(dir, "tsa.pem"));
    const out = execFileSync("sh", ["-c", command], { cwd: dir, encoding: "utf8", stdio: "pipe" });
    expect(out).toMatch(/Verification: OK/);
  });

  it("HTML (and so the PDF) shows the same in the evidence section", () => {
    const html = renderHtml(timestamped());
    const evidence = html.slice(html.indexOf('<section id="evidence">'));
    const info = timestampTokenInfo(TSR);
    expect(evidence).toContain('<div class="timestamp">');
    expect(evidence).toContain(`serial number ${info.serial}, over SHA-256 ${info.imprintSha256}`);
    expect(evidence).toContain("openssl ts -verify -data statement.json -in statement.tsr -CAfile tsa.pem");
  });

  it("a token for other bytes is called out, and one that cannot be read still shows the TSA and time", () => {
    const other = renderMarkdown({
      ...timestamped(),
      evidence: { ...timestamped().evidence, statement: { ...STATEMENT, records: 1 } },
    });
    expect(other).toContain(", NOT the statement's)");
    const broken = renderMarkdown(timestamped(Buffer.from("not a token").toString("base64")));
    expect(broken).toMatch(/at 2026-12-01 23:40:46 UTC \(the token could not be read: [^)]+\)/);
    expect(renderMarkdown(sampleReport())).not.toContain("timestamped");
  });
});
