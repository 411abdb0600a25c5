import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnchorImprintMismatch } from "../../src/record/evidence/anchor.js";
import { RFC3161_ANCHOR } from "../../src/record/evidence/rfc3161-anchor.js";
import { tsaCertificatesOfPem } from "../../src/record/evidence/timestamp-signature.js";
import { makeTestTsa, type TestTsa } from "../support/test-tsa.js";

/**
 * The RFC 3161 anchor behind the Anchor seam, against a real TSA (`openssl ts -reply`): the
 * request it builds is one the TSA grants, its check accepts that reply and refuses one made for
 * another request, and its verify accepts the stored token only over the stamped bytes.
 */

const DATA = Buffer.from('{"month":"2026-03","records":48}');
let dir: string;
let tsa: TestTsa;
let pinned: readonly Buffer[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-anchor-"));
  tsa = makeTestTsa(dir, "Test TSA");
  pinned = tsaCertificatesOfPem(readFileSync(tsa.caPem, "utf8"), "ca.pem");
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the RFC 3161 anchor", () => {
  it("stamps: the TSA's reply to its request is checked and dated", async () => {
    const stamp = RFC3161_ANCHOR.stamp(DATA);
    expect(stamp.contentType).toBe("application/timestamp-query");
    const reply = tsa.stamp(stamp.body);
    await expect(stamp.check(reply, pinned)).resolves.toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("refuses a reply made for another request (its nonce)", async () => {
    const reply = tsa.stamp(RFC3161_ANCHOR.stamp(DATA).body);
    await expect(RFC3161_ANCHOR.stamp(DATA).check(reply, pinned)).rejects.toThrow(/nonce/);
  });

  it("verifies a stored token over the stamped bytes only", async () => {
    const token = tsa.stamp(RFC3161_ANCHOR.stamp(DATA).body);
    await expect(RFC3161_ANCHOR.verify(token, DATA, pinned)).resolves.toMatchObject({ chained: true });
    await expect(RFC3161_ANCHOR.verify(token, Buffer.from("other"), [])).rejects.toBeInstanceOf(
      AnchorImprintMismatch,
    );
    await expect(RFC3161_ANCHOR.verify(Buffer.from("garbage"), DATA, [])).rejects.toThrow(
      /not a granted RFC 3161 time-stamp reply/,
    );
  });
});
