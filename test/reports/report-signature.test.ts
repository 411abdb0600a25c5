import { spawnSync } from "node:child_process";
import { createHash, createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentKey } from "../../src/record/index.js";
import {
  type MonthlyReport,
  renderPdf,
  renderReport,
  reportBytes,
  signReport,
} from "../../src/reports/index.js";
import { REPO, slo } from "./cli-run.js";
import { MONTH, sloYaml } from "./month-scenario.js";
import { prepareMonth } from "./month-store.js";

/**
 * Contract section 13, "The report is signed whole": before it, the signature covered only the
 * statement (the records' digest), so a report with a changed figure or credit_pct still carried
 * a valid signature. Every case here edits a real signed report written by `slo-agent report`.
 */

const CREDITS = `sla:
  provider: Klarna Bank AB
  credits: [{below_pct: 99.0, credit_pct: 10}, {below_pct: 95.0, credit_pct: 25}]
`;

let dir: string;
let signedText: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-signature-"));
  prepareMonth(dir);
  writeFileSync(join(dir, "slo.yaml"), sloYaml("./data") + CREDITS);
  const run = slo(["report", "--month", MONTH, "--claim", "--out", "report.json"], dir);
  if (run.code !== 0) throw new Error(run.stderr);
  signedText = readFileSync(join(dir, "report.json"), "utf8");
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The parts of the report's JSON that the cases below edit. */
interface EditableReport {
  service_classes: { credit_pct: number | null }[];
  categories: { availability_pct: number | null; requests: number }[];
  claim: { credits: { credit_pct: number | null }[] };
  maintenance: { windows: { qualified: boolean }[] };
  report_signature: { key_id: string };
}
type Edit = (report: EditableReport) => void;

/** The signed report with a member added to report_signature (the last "alg" in the file). */
function withNote(): string {
  const at = signedText.lastIndexOf('"alg": "ed25519"');
  return `${signedText.slice(0, at)}"note": "credit owed: 25%", ${signedText.slice(at)}`;
}

/** Writes an edited copy of the signed report and runs `verify --report` on it. */
function verifyEdited(name: string, edit: Edit) {
  const report = JSON.parse(signedText);
  edit(report);
  writeFileSync(join(dir, name), `${JSON.stringify(report, null, 2)}\n`);
  return slo(["verify", "--report", name], dir);
}

function agentKey(): AgentKey {
  const pem = readFileSync(join(dir, "data", "agent-signing-key.pem"), "utf8");
  return new AgentKey(createPrivateKey(pem));
}

describe("verify --report: the JSON report signed whole (contract section 13)", { timeout: 120_000 }, () => {
  it("an intact report verifies (exit 0) under the key id derived from the agent's key", () => {
    const report = JSON.parse(signedText) as MonthlyReport;
    expect(report.report_signature).toMatchObject({ alg: "ed25519", key_id: agentKey().keyId });
    const run = slo(["verify", "--report", "report.json"], dir);
    expect(run.code, run.stderr).toBe(0);
    const digest = createHash("sha256").update(reportBytes(report)).digest("hex");
    expect(run.stdout).toBe(`ok: report signed whole by key ${agentKey().keyId}, digest ${digest}\n`);
  });

  it.each<[string, Edit]>([
    [
      "a service class's credit_pct",
      (r) => {
        r.service_classes[0]!.credit_pct = 25;
      },
    ],
    [
      "a category's availability_pct",
      (r) => {
        r.categories[0]!.availability_pct = 99.95;
      },
    ],
    [
      "a category's request count",
      (r) => {
        r.categories[1]!.requests += 1;
      },
    ],
    [
      "the claim's credits",
      (r) => {
        r.claim.credits[0]!.credit_pct = 25;
      },
    ],
    [
      "a maintenance window's verdict",
      (r) => {
        r.maintenance.windows[0]!.qualified = true;
      },
    ],
  ])("changing %s is exit 1: the signature no longer holds", (_what, edit) => {
    const report = JSON.parse(signedText);
    const before = JSON.stringify(report);
    edit(report);
    expect(JSON.stringify(report)).not.toBe(before);
    const run = verifyEdited("edited.json", edit);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stderr).toMatch(
      /^altered: edited\.json: report_signature is not a valid signature of this report by key [0-9a-f]{16}/,
    );
  });

  it("a key_id that is not the public key's is exit 1, named as such", () => {
    const run = verifyEdited("key-id.json", (r) => {
      r.report_signature.key_id = "0123456789abcdef";
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "report_signature.key_id 0123456789abcdef is not the id of the report's public key",
    );
  });

  it("a report re-signed with another key verifies only under that key's own id, never the victim's", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const forger = new AgentKey(privateKey);
    const report = JSON.parse(signedText) as MonthlyReport;
    const forged = signReport(
      {
        ...report,
        service_classes: report.service_classes.map((s) => ({ ...s, credit_pct: 25 })),
        evidence: {
          ...report.evidence,
          signature: { ...report.evidence.signature!, public_key_pem: forger.publicKeyPem },
        },
      },
      forger,
    );
    writeFileSync(join(dir, "forged.json"), renderReport(forged, "json"));
    const run = slo(["verify", "--report", "forged.json"], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`by key ${forger.keyId}`);
    expect(run.stdout).not.toContain(agentKey().keyId);
  });

  it.each<[string, string | null, RegExp]>([
    ["not JSON", "{ not json", /is not JSON/],
    ["an unsigned report", JSON.stringify({ month: MONTH }), /has no report_signature/],
    ["a missing file", null, /cannot read missing\.json \(ENOENT\)/],
  ])("%s is unreadable (exit 2)", (_what, content, message) => {
    const name = content === null ? "missing.json" : "unreadable.json";
    if (content !== null) writeFileSync(join(dir, name), content);
    const run = slo(["verify", "--report", name], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  /** The attacks on the bytes: JSON that Node reads as the signed report although it is not. */
  function unsignedBytes(): [string, string][] {
    const at = signedText.indexOf('"credit_pct"');
    const nullAt = signedText.search(/: null[,\n]/);
    const value = (JSON.parse(signedText) as MonthlyReport).report_signature!.value;
    return [
      // Node keeps the last of two keys; another reader (or a person) sees the first.
      [
        "a duplicate key before the signed one",
        `${signedText.slice(0, at)}"credit_pct": 25, ${signedText.slice(at)}`,
      ],
      // Node reads 1e999 as Infinity and writes it back as null: the signed bytes, not the file's.
      [
        "a signed null replaced by 1e999",
        `${signedText.slice(0, nullAt)}: 1e999${signedText.slice(nullAt + 6)}`,
      ],
      ["an unsigned member inside report_signature", withNote()],
      [
        "junk characters in the base64 value",
        signedText.replace(value, `${value.slice(0, 20)}!*${value.slice(20)}`),
      ],
    ];
  }

  it("bytes that were not signed are refused (exit 1, not the signed bytes), though JSON.parse reads the signed report", () => {
    for (const [what, text] of unsignedBytes()) {
      expect(text, what).not.toBe(signedText);
      writeFileSync(join(dir, "unsigned.json"), text);
      const run = slo(["verify", "--report", "unsigned.json"], dir);
      expect(run.code, `${what}: ${run.stdout}`).toBe(1);
      expect(run.stderr, what).toContain("not the signed bytes");
    }
  });

  it("a signed report whose evidence did not verify says UNVERIFIED loudly", () => {
    const report = JSON.parse(signedText) as MonthlyReport;
    const unverified = signReport(
      { ...report, evidence: { ...report.evidence, verified: false, problem: "record 7 altered" } },
      agentKey(),
    );
    writeFileSync(join(dir, "unverified.json"), renderReport(unverified, "json"));
    const run = slo(["verify", "--report", "unverified.json"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^UNVERIFIED: .*did NOT verify \(record 7 altered\)/m);
    expect(runDocumented(renderReport(unverified, "json")).stdout).toContain("UNVERIFIED");
  });

  it("a directory is unreadable (exit 2), never read", () => {
    mkdirSync(join(dir, "a-dir"), { recursive: true });
    const run = slo(["verify", "--report", "a-dir"], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not a regular file");
  });

  it("the PDF printed from the signed report shows its digest", async () => {
    const report = JSON.parse(signedText) as MonthlyReport;
    const digest = createHash("sha256").update(reportBytes(report)).digest("hex");
    const pdf = join(dir, "report.pdf");
    writeFileSync(pdf, await renderPdf(report));
    const text = spawnSync("pdftotext", [pdf, "-"], { encoding: "utf8" }).stdout;
    expect(text.replace(/\s+/g, "")).toContain(digest);
  });

  it("Markdown and HTML rendered from the signed report show its digest", () => {
    const report = JSON.parse(signedText) as MonthlyReport;
    const digest = createHash("sha256").update(reportBytes(report)).digest("hex");
    expect(renderReport(report, "md")).toContain(`    ${digest}\n`);
    expect(renderReport(report, "md")).toContain(
      `This letter belongs to our JSON report of the month, SHA-256 ${digest}`,
    );
    expect(renderReport(report, "html")).toContain(`data-report-digest>${digest}</div>`);
  });
});

/** The shell block of docs/report.md that checks a report with python3 and openssl only. */
function documentedCheck(): string {
  const doc = readFileSync(join(REPO, "docs/report.md"), "utf8");
  const at = doc.indexOf("<!-- report-signature-check");
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(at));
  if (at < 0 || !block) throw new Error("docs/report.md has no report-signature-check block");
  return block[1]!;
}

function runDocumented(report: string) {
  const work = mkdtempSync(join(dir, "openssl-"));
  writeFileSync(join(work, "report.json"), report);
  return spawnSync("bash", ["-c", documentedCheck()], { cwd: work, encoding: "utf8", timeout: 60_000 });
}

describe("the documented openssl check (docs/report.md), run as it stands", { timeout: 120_000 }, () => {
  it("verifies the signed report, derives the same key id and prints the report's digest", () => {
    const report = JSON.parse(signedText) as MonthlyReport;
    const run = runDocumented(signedText);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe(`key_id in the report: ${report.report_signature!.key_id}`);
    expect(lines[1]).toMatch(new RegExp(`^${agentKey().keyId}`));
    expect(lines[2]).toBe("Signature Verified Successfully");
    const digest = createHash("sha256").update(reportBytes(report)).digest("hex");
    expect(lines[3]).toBe(`${digest}  report.jcs`);
  });

  it("refuses the same unsigned bytes as verify --report: a duplicate key, 1e999, an extra member, junk base64", () => {
    const report = JSON.parse(signedText) as MonthlyReport;
    const at = signedText.indexOf('"credit_pct"');
    const nullAt = signedText.search(/: null[,\n]/);
    const value = report.report_signature!.value;
    for (const text of [
      `${signedText.slice(0, at)}"credit_pct": 25, ${signedText.slice(at)}`,
      `${signedText.slice(0, nullAt)}: 1e999${signedText.slice(nullAt + 6)}`,
      `${signedText.slice(0, nullAt)}: Infinity${signedText.slice(nullAt + 6)}`,
      withNote(),
      signedText.replace(value, `${value.slice(0, 20)}!*${value.slice(20)}`),
    ]) {
      const run = runDocumented(text);
      expect(run.stdout, text.slice(0, 80)).not.toContain("Signature Verified Successfully");
    }
  });

  it("fails on a report whose credit_pct was changed", () => {
    const report = JSON.parse(signedText);
    report.service_classes[0].credit_pct = 25;
    const run = runDocumented(`${JSON.stringify(report, null, 2)}\n`);
    expect(run.stdout).not.toContain("Signature Verified Successfully");
    expect(`${run.stdout}${run.stderr}`).toContain("Signature Verification Failure");
  });
});
