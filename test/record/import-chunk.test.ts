import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/model/result.js";
import { canonicalForm, chainHashHex, GENESIS_HASH } from "../../src/record/evidence/canonical.js";
import { packChunk, speculativeHashesOf, unpackChunk } from "../../src/record/import/import-chunk.js";
import type { LineChunk } from "../../src/record/import/line-chunks.js";

const BASE: ProbeResult = {
  ts: Date.UTC(2026, 9, 1),
  probe: "p",
  category: "c",
  status: 200,
  durationMs: 12.5,
  error: null,
  errorCode: null,
  correlationId: null,
  phases: null,
  serverMs: null,
  flags: [],
  bodyError: null,
  detail: null,
};

/** Results as the parser builds them: every field set, agent and region only when given. */
const RESULTS: ProbeResult[] = [
  BASE,
  { ...BASE, ts: BASE.ts + 1, status: null, error: "timeout", durationMs: 10_000, detail: "UND_ERR é😀" },
  {
    ...BASE,
    ts: BASE.ts + 2,
    status: 503,
    errorCode: "X",
    correlationId: "corr-1",
    phases: { dnsMs: 0, connectMs: null, tlsMs: 1.25, requestSentMs: 0.001, ttfbMs: 7, bodyEndMs: null },
    serverMs: 3.5,
    flags: ["edge_block", "body_capped"],
    bodyError: "reset",
  },
  { ...BASE, ts: BASE.ts + 3, agent: "eu-1", region: "eu-west" },
  { ...BASE, ts: BASE.ts + 4, agent: "us-1" },
  { ...BASE, ts: BASE.ts + 5, region: "only-region", durationMs: 0 },
];

function chunkOf(results: ProbeResult[]): LineChunk {
  return {
    results,
    canonicals: results.map(canonicalForm),
    lines: results.map((_, i) => i * 2 + 1),
    rejected: [{ line: 2, message: "bad" }],
    bytesRead: 10,
    totalBytes: 20,
  };
}

describe("the parse worker's packed chunks", () => {
  it("give back every result, field for field, with its canonical form and line", () => {
    const chunk = chunkOf(RESULTS);
    const back = unpackChunk(structuredClone(packChunk(chunk, null).packed));
    expect(back.results).toStrictEqual(RESULTS);
    expect(back.results.map(canonicalForm)).toStrictEqual(chunk.canonicals);
    expect(back.canonicals).toStrictEqual(chunk.canonicals);
    expect(back.lines).toStrictEqual(chunk.lines);
    expect(back.rejected).toStrictEqual(chunk.rejected);
    expect([back.bytesRead, back.totalBytes]).toStrictEqual([10, 20]);
  });

  it("carry chain hashes from the tail given, each with the tail it assumed, across chunks", () => {
    const tail = GENESIS_HASH.toString("hex");
    const first = packChunk(chunkOf(RESULTS.slice(0, 2)), tail);
    const second = packChunk(chunkOf(RESULTS.slice(2)), first.tail);
    let expected = tail;
    const chained = RESULTS.map((r) => (expected = chainHashHex(expected, canonicalForm(r))));
    const a = speculativeHashesOf(first.packed, tail)!;
    const b = speculativeHashesOf(second.packed, a.hashes.at(-1)!)!;
    expect([...a.hashes, ...b.hashes]).toStrictEqual(chained);
    expect([...a.prevs, ...b.prevs]).toStrictEqual([tail, ...chained.slice(0, -1)]);
    expect(speculativeHashesOf(packChunk(chunkOf(RESULTS), null).packed, tail)).toBeNull();
  });
});
