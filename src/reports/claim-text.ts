import type { Claim, ClaimedMiss } from "./claim.js";
import {
  counted,
  formatCount,
  formatDuration,
  formatInstant,
  formatMs,
  formatPct,
  formatTarget,
  monthTitle,
  SHOWN_CORRELATION_IDS,
} from "./format.js";

/** The claim in words, as blocks each form marks up its own way (the same words in Markdown, HTML and PDF). */
export type ClaimBlock =
  | { readonly kind: "p"; readonly text: string }
  | { readonly kind: "list"; readonly items: readonly string[] }
  | { readonly kind: "code"; readonly lines: readonly string[] };

export const CLAIM_TITLE = "Service credit claim";
const SHOWN_CLAIM_INCIDENTS = 20;

function missText(m: ClaimedMiss): string {
  const measured = m.unit === "%" ? formatPct(m.measured) : formatMs(m.measured);
  const target =
    m.unit === "%" ? `the ${formatTarget(m.target)} target` : `the ${formatCount(m.target)} ms p99 objective`;
  const what = m.objective.endsWith(":latency") ? "p99 latency" : "availability";
  return `${m.title} (${m.objective}): ${what} ${measured} against ${target}.`;
}

function incidentItems(claim: Claim): string[] {
  const items = claim.incidents.slice(0, SHOWN_CLAIM_INCIDENTS).map((i) => {
    const codes = i.error_codes.map((c) => `${c.code} ×${c.count}`).join(", ") || "none";
    const how = i.failures.map((f) => `${f.code} ×${f.count}`).join(", ");
    const ids = i.correlation_ids.slice(0, SHOWN_CORRELATION_IDS);
    const more = i.correlation_ids.length - ids.length;
    const idText =
      ids.length === 0
        ? "none recorded"
        : `${ids.join(" ")}${more > 0 ? ` and ${more} more (JSON form)` : ""}`;
    return `${i.category}, ${formatInstant(i.start)} to ${formatInstant(i.end)} UTC (${formatDuration(i.duration_ms)}): ${formatCount(i.failed_requests)} of ${formatCount(i.requests)} requests failed (${how}); error codes: ${codes}; correlation ids: ${idText}.`;
  });
  const rest = claim.incidents.length - SHOWN_CLAIM_INCIDENTS;
  if (rest > 0) items.push(`${counted(rest, "further failure period")} with less impact: see the JSON form.`);
  return items;
}

function creditBlocks(claim: Claim): ClaimBlock[] {
  if (claim.credits === null)
    return [
      {
        kind: "p",
        text: "No service credit tiers are configured (sla.credits), so no credit percentage is computed here; we claim the credit your agreement sets for the misses above.",
      },
    ];
  const earned = claim.credits.filter((c) => c.credit_pct !== null && c.credit_pct > 0);
  if (earned.length === 0) {
    const text =
      "No service class fell under a configured credit tier (sla.credits), so no service credit is claimed.";
    return [{ kind: "p", text }];
  }
  const fee = claim.monthly_fee;
  const items = earned.map((c) => {
    const amount =
      c.credit_amount === null || fee === null ? "" : ` = ${formatMoney(c.credit_amount, fee.currency)}`;
    return `${c.title} (${c.service_class}): ${formatCount(c.credit_pct ?? 0)}% service credit${amount}`;
  });
  const blocks: ClaimBlock[] = [
    { kind: "p", text: "We claim the following service credits, per the agreed tiers:" },
    { kind: "list", items },
  ];
  if (claim.total_credit_amount !== null && fee !== null)
    blocks.push({
      kind: "p",
      text: `Total service credit claimed: ${formatMoney(claim.total_credit_amount, fee.currency)} (the percentages apply to the monthly fee of ${formatMoney(fee.amount, fee.currency)}), to be credited against the next invoice.`,
    });
  else
    blocks.push({
      kind: "p",
      text: "The percentages apply to the month's fee under the agreement (no fee is configured here, sla.monthly_fee, so no amount is computed).",
    });
  return blocks;
}

/** "EUR 1,250.00": an amount with its ISO 4217 code, always two decimals. */
export function formatMoney(amount: number, currency: string): string {
  return `${currency} ${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Sender, recipient, date and reference: what makes the letter one that can be sent as it is. */
function headerBlocks(claim: Claim): ClaimBlock[] {
  const from = claim.merchant
    ? `From: ${claim.merchant.name}, ${claim.merchant.contact}`
    : "From: (set sla.merchant: name and contact of the merchant)";
  const reference = claim.contract_ref
    ? `Reference: agreement ${claim.contract_ref}, service credit claim for ${monthTitle(claim.month)}`
    : `Reference: service credit claim for ${monthTitle(claim.month)} (set sla.contract_ref to quote the agreement)`;
  return [
    { kind: "p", text: from },
    { kind: "p", text: `To: ${claim.provider}` },
    { kind: "p", text: `Date: ${claim.date}` },
    { kind: "p", text: reference },
  ];
}

/** How the provider checks the attached bundle with standard tools, without our software. */
function verificationBlocks(claim: Claim, reportDigest?: string): ClaimBlock[] {
  const e = claim.evidence;
  const blocks: ClaimBlock[] = [
    {
      kind: "p",
      text: `The figures come from ${counted(e.records, "record")} in a hash-chained evidence log (digest of their content, SHA-256 ${e.chain_sha256})${e.key_id ? `, covered by a statement signed with our agent's Ed25519 key ${e.key_id} (statement SHA-256 ${e.statement_sha256})` : ""}. The month's evidence bundle (evidence-${claim.month}) is attached. You can check it with standard tools, without trusting us or our software; in the bundle's directory:`,
    },
    {
      kind: "code",
      lines: [
        "sha256sum -c SHA256SUMS",
        "openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in statement.json -sigfile statement.sig",
      ],
    },
    {
      kind: "p",
      text: "The first checks that no file was altered; the second prints \"Signature Verified Successfully\" for the signed statement of the month's figures. The bundle's README.md shows how to recompute the month's digest from records.ndjson with sed, sort and sha256sum, and how to check the hash chain with a few lines of Python; its recompute.py (Python 3 standard library only) recomputes every figure from the bundle alone: python3 recompute.py",
    },
  ];
  if (reportDigest)
    blocks.push({
      kind: "p",
      text: `This letter belongs to our JSON report of the month, SHA-256 ${reportDigest} (of its RFC 8785 form without report_signature)${e.key_id ? `, signed whole with the same key ${e.key_id}; the bundle's README shows how openssl checks that no figure was changed` : ""}.`,
    });
  blocks.push({
    kind: "p",
    text: `With slo-agent, the same checks are one command: slo-agent verify --bundle evidence-${claim.month}${e.key_id ? ` --key-id ${e.key_id}` : ""} (add --tsa-ca with the time-stamp authority's CA certificate when the bundle has statement.tsr).`,
  });
  return blocks;
}

/** Where the merchant signs: the letter is ready to print and sign as it is. */
function signatureBlocks(claim: Claim): ClaimBlock[] {
  const lines = ["Yours sincerely,", "", "", "______________________________"];
  if (claim.merchant) lines.push(claim.merchant.contact, claim.merchant.name);
  else lines.push("(name and contact: sla.merchant)");
  lines.push(`Date: ${claim.date}`);
  return [{ kind: "code", lines }];
}

/**
 * For the merchant, shown beside the letter but not in it (nor in print): attach the bundle made
 * from this very report, so the bundle's report.json and digest are the letter's.
 */
export function claimPreparation(claim: Claim): string {
  return `Before sending: attach the bundle made from the signed JSON report of this month that goes with the letter, so that the bundle's report.json is that report: slo-agent evidence export --month ${claim.month} --out evidence-${claim.month} --report report-${claim.month}.json (the digest in the letter is that of the report it was rendered with; a report generated at another time has another digest).`;
}

/** The letter: to the provider, what was missed, the credit, the incidents, and how to check it all. */
export function claimBlocks(claim: Claim, reportDigest?: string): ClaimBlock[] {
  const blocks: ClaimBlock[] = [
    ...headerBlocks(claim),
    {
      kind: "p",
      text: `For ${monthTitle(claim.month)} (${formatInstant(claim.period.start)} to ${formatInstant(claim.period.end)} UTC) our measurements show that the following service level ${claim.missed.length === 1 ? "objective was" : "objectives were"} missed:`,
    },
    { kind: "list", items: claim.missed.map(missText) },
  ];
  if (claim.preliminary)
    blocks.push({
      kind: "p",
      text: "These figures are PRELIMINARY (see the banner above) and may still change.",
    });
  blocks.push(...creditBlocks(claim));
  const items = incidentItems(claim);
  if (items.length > 0) {
    blocks.push(
      {
        kind: "p",
        text: "The failure periods behind these misses, with your error codes and correlation ids:",
      },
      { kind: "list", items },
    );
  }
  blocks.push(...verificationBlocks(claim, reportDigest), ...signatureBlocks(claim));
  return blocks;
}
