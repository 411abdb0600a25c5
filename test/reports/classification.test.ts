import { describe, expect, it } from "vitest";
import type { FailureReason, ResultFlag } from "../../src/model/index.js";
import { ClassificationTally, classificationNotes } from "../../src/reports/classification.js";
import { classified } from "./sample-report.js";

type Seen = { flags?: ResultFlag[]; bodyError?: FailureReason | null };

describe("counting the probe's flags and body errors", () => {
  it.each([
    [
      "results without the optional fields count nothing",
      [{}, { flags: [] }, { bodyError: null }],
      classified(),
    ],
    [
      "each flag of a result counts once, beside its body error",
      [{ flags: ["edge_block"] }, { flags: ["edge_block", "body_capped"], bodyError: "reset" }],
      classified({ edge_block: 2, body_capped: 1 }, { reset: 1 }),
    ],
    [
      "body errors count per failure reason",
      [{ bodyError: "timeout" }, { bodyError: "timeout" }, { bodyError: "reset" }],
      classified({}, { timeout: 2, reset: 1 }),
    ],
  ] as const)("%s", (_rule, results, expected) => {
    const tally = new ClassificationTally();
    for (const result of results as readonly Seen[]) tally.add(result);
    expect(tally.counts()).toEqual(expected);
  });

  it("every known flag and failure reason is a key, in a fixed order, even at zero", () => {
    const { result_flags, body_errors } = new ClassificationTally().counts();
    expect(Object.keys(result_flags)).toEqual(["edge_block", "redirect_limit", "body_capped", "agent_error"]);
    expect(Object.keys(body_errors)).toEqual([
      "timeout",
      "connect",
      "dns",
      "tls",
      "reset",
      "protocol",
      "aborted",
    ]);
  });
});

describe("what the documents say about them", () => {
  it.each([
    ["all zero says nothing", classified(), []],
    [
      "an edge block points at allow-lists and the CDN",
      classified({ edge_block: 1 }),
      [
        "1 answer looked like an edge block (403 without Klarna's error body): check IP allow-lists or the CDN before disputing.",
      ],
    ],
    [
      "a redirect loop points at the probe's path",
      classified({ redirect_limit: 2 }),
      [
        "2 answers were still redirecting at the redirect limit (a loop, typically): check the probe's path and the target's base URL before disputing.",
      ],
    ],
    [
      "body errors are one line, most frequent first, in thousands",
      classified({}, { reset: 1, timeout: 1200 }),
      [
        "1,201 responses broke off after the headers arrived (timeout ×1200, reset ×1): the status stands and counts as given; a body cut short points at the network path first, so check it before raising these with the provider.",
      ],
    ],
    [
      "flags come before body errors, one line each",
      classified({ body_capped: 3, edge_block: 1 }, { tls: 1 }),
      [
        expect.stringMatching(/^1 answer looked like an edge block/),
        expect.stringMatching(/^3 bodies were longer than max_body_bytes/),
        expect.stringMatching(/^1 response broke off after the headers arrived \(tls ×1\)/),
      ],
    ],
  ])("%s", (_rule, counts, expected) => {
    expect(classificationNotes(counts)).toEqual(expected);
  });
});
