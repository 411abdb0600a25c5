import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MonthlyReport } from "../../src/reports/index.js";
import { REPO, slo } from "./cli-run.js";
import { MONTH, sloYaml } from "./month-scenario.js";
import { prepareMonth } from "./month-store.js";

const GOLDEN = join(REPO, "test/fixtures/reports/march-claim.md");
const CREDITS = `sla:
  provider: Klarna Bank AB
  credits: [{below_pct: 99.0, credit_pct: 10}, {below_pct: 95.0, credit_pct: 25}]
  merchant: {name: Example Shop GmbH, contact: "Jane Doe, vendor-management@shop.example"}
  contract_ref: KL-2025-0042
  monthly_fee: {amount: 12500, currency: EUR}
`;

/** What differs with the host, the test's fresh agent key and the clock. */
const masked = (text: string) =>
  text
    .replace(/agent key `[0-9a-f]{16}`/, "agent key `<key_id>`")
    .replace(/Ed25519 key [0-9a-f]{16}/, "Ed25519 key <key_id>")
    .replace(/(signed whole by agent key )[0-9a-f]{16}/g, "$1<key_id>")
    .replace(
      /(verify --report FILE\.json\):(?:\n\n {4}|<\/p>\n<div class="digest mono" data-report-digest>))[0-9a-f]{64}/g,
      "$1<report digest>",
    )
    .replace(/SHA-256 [0-9a-f]{64} \(of its RFC 8785/g, "SHA-256 <report digest> (of its RFC 8785")
    .replace(/the same key [0-9a-f]{16}/g, "the same key <key_id>")
    .replace(/--key-id [0-9a-f]{16}/g, "--key-id <key_id>")
    .replace(/statement SHA-256 [0-9a-f]{64}/, "statement SHA-256 <statement sha256>")
    .replace(/^ {4}[A-Za-z0-9+/]{86}==$/m, "    <signature>")
    .replace(/^ {4}\{"agent":"[^"]*".*$/m, "    <statement>")
    .replace(/^ {4}-----BEGIN PUBLIC KEY-----\n.*\n {4}-----END PUBLIC KEY-----$/m, "    <public key>")
    .replace(/^- Measured by: \S+ /m, "- Measured by: <host> ")
    .replace(/Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "Generated <generated_at> UTC")
    .replace(/Date: \d{4}-\d\d-\d\d/g, "Date: <generated_at date>");

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-claim-"));
  prepareMonth(dir);
  writeFileSync(join(dir, "slo.yaml"), sloYaml("./data") + CREDITS);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("report --claim: the letter to the provider", () => {
  it("Markdown matches its golden file", () => {
    const md = slo(["report", "--month", MONTH, "--format", "md", "--claim"], dir);
    expect(md.code, md.stderr).toBe(0);
    const text = masked(md.stdout);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, "utf8"));
    const claim = text.slice(text.indexOf("## Service credit claim"));
    expect(claim).toContain("To: Klarna Bank AB");
    expect(claim).toContain("From: Example Shop GmbH, Jane Doe, vendor-management@shop.example");
    expect(claim).toContain("Reference: agreement KL-2025-0042, service credit claim for March 2026");
    expect(claim).toContain(
      "Transactions Critical Services (transaction\\_critical): 10% service credit = EUR 1,250.00",
    );
    expect(claim).toMatch(/Total service credit claimed: EUR [\d,]+\.\d\d/);
    expect(claim).toContain("Yours sincerely,");
    // How the provider checks the bundle: standard tools, not the merchant's own command.
    expect(claim).toContain("sha256sum -c SHA256SUMS");
    expect(claim).toContain("openssl pkeyutl -verify");
    expect(claim).not.toContain("slo-agent evidence export");
    expect(claim).toContain("slo-agent verify --bundle evidence-2026-03 --key-id <key_id>");
    // For the merchant, beside the letter and not in it: the bundle made from this report.
    const before = text.slice(0, text.indexOf("## Service credit claim"));
    expect(before).toMatch(
      /^> Before sending: .*slo-agent evidence export --month 2026-03 --out evidence-2026-03 --report report-2026-03\.json \(/m,
    );
  });

  it("JSON gains claim only with --claim", () => {
    const plain = JSON.parse(slo(["report", "--month", MONTH], dir).stdout) as MonthlyReport;
    expect(plain).not.toHaveProperty("claim");
    // credit_amount = monthly_fee.amount * credit_pct / 100, per class.
    for (const cls of plain.service_classes)
      expect(cls.credit_amount, cls.service_class).toBe(
        cls.credit_pct === null ? null : (12500 * cls.credit_pct) / 100,
      );
    expect(plain.service_classes.some((c) => (c.credit_amount ?? 0) > 0)).toBe(true);
    const run = slo(["report", "--month", MONTH, "--claim"], dir);
    const claimed = JSON.parse(run.stdout) as MonthlyReport;
    expect(claimed.claim?.provider).toBe("Klarna Bank AB");
    expect(claimed.claim?.missed.map((m) => m.objective)).toEqual(claimed.summary.missed);
    expect(
      claimed.claim?.incidents.every((i) => i.category === "payment_request" || i.category === "disputes"),
    ).toBe(true);
  });

  it("a month with nothing missed gets no claim: a note on stderr, exit 0", () => {
    const run = slo(
      ["report", "--month", MONTH, "--claim", "--category", "settlements", "--format", "md"],
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.trim()).toBe("slo-agent report: no claim written: nothing was missed in 2026-03");
    expect(run.stdout).not.toContain("Service credit claim");
  });

  it("a PRELIMINARY month is refused (exit 2) unless --allow-preliminary", () => {
    const run = slo(["report", "--month", "2026-04", "--claim", "--format", "md"], dir);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/2026-04 is PRELIMINARY .*--allow-preliminary/);
    const allowed = slo(
      ["report", "--month", "2026-04", "--claim", "--allow-preliminary", "--format", "md"],
      dir,
    );
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it("Chromium prints the claim into the PDF with the provider's name and the credit", () => {
    const out = join(dir, "claim.pdf");
    const run = slo(["report", "--month", MONTH, "--claim", "--out", out], dir);
    expect(run.code, run.stderr).toBe(0);
    const text = spawnSync("pdftotext", ["-layout", out, "-"], { encoding: "utf8" });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain("Service credit claim");
    expect(text.stdout).toContain("To: Klarna Bank AB");
    expect(text.stdout).toMatch(
      /Transactions Critical Services \(transaction_critical\): 10%\s+service\s+credit/,
    );
  }, 60_000);
});
