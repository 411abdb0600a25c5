import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pkijs from "pkijs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampRequest } from "../../src/record/evidence/timestamp.js";
import { checkTokenSignature, tsaCertificatesOfPem } from "../../src/record/evidence/timestamp-signature.js";
import { makeTestTsa, type TestTsa } from "../support/test-tsa.js";

/**
 * The TSA's signature on an RFC 3161 token, checked in code against tokens a real TSA made
 * (`openssl ts -reply` with a CA made here): a token signed by another key, with a changed
 * signature, for other data, or from a TSA whose CA is not the pinned one is refused.
 */

const DATA = Buffer.from('{"month":"2026-03","records":48}');
let dir: string;
let tsa: TestTsa;
let other: TestTsa;
let genuine: Buffer;
let pinned: readonly Buffer[];

function ab(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The reply with its SignedData changed by `edit` and encoded again. */
async function rewritten(
  reply: Buffer,
  edit: (signed: pkijs.SignedData) => Promise<void> | void,
): Promise<Buffer> {
  const response = pkijs.TimeStampResp.fromBER(ab(reply));
  const signed = new pkijs.SignedData({ schema: response.timeStampToken!.content });
  await edit(signed);
  response.timeStampToken!.content = signed.toSchema(true);
  return Buffer.from(response.toSchema().toBER(false));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-tsa-sig-"));
  tsa = makeTestTsa(dir, "Test TSA");
  other = makeTestTsa(dir, "Other TSA");
  genuine = tsa.stamp(timestampRequest(DATA).der);
  pinned = tsaCertificatesOfPem(readFileSync(tsa.caPem, "utf8"), "ca.pem");
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the TSA's signature on a token", () => {
  it("a genuine token verifies: self-consistent without a pinned CA, chained with one", async () => {
    await expect(checkTokenSignature(genuine, DATA, [])).resolves.toEqual({
      subject: "CN=Test TSA",
      chained: false,
    });
    await expect(checkTokenSignature(genuine, DATA, pinned)).resolves.toEqual({
      subject: "CN=Test TSA",
      chained: true,
    });
  });

  it("a token from another TSA (its own CA, carried in the token) is refused under the pinned CA", async () => {
    const foreign = other.stamp(timestampRequest(DATA).der);
    await expect(checkTokenSignature(foreign, DATA, [])).resolves.toMatchObject({ chained: false });
    await expect(checkTokenSignature(foreign, DATA, pinned)).rejects.toThrow(
      /does not chain to the pinned TSA CA certificate/,
    );
  });

  it("a token re-signed by another key under the genuine TSA's certificate is refused", async () => {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ]);
    const forged = await rewritten(genuine, (signed) => signed.sign(keys.privateKey, 0, "SHA-256"));
    await expect(checkTokenSignature(forged, DATA, [])).rejects.toThrow(/signature does not verify/);
    await expect(checkTokenSignature(forged, DATA, pinned)).rejects.toThrow(/signature does not verify/);
  });

  it("a token whose signature value was changed is refused", async () => {
    const tampered = await rewritten(genuine, (signed) => {
      const value = signed.signerInfos[0]!.signature.valueBlock.valueHexView;
      value[value.length - 1]! ^= 0x01;
    });
    expect(tampered.equals(genuine)).toBe(false);
    await expect(checkTokenSignature(tampered, DATA, [])).rejects.toThrow(/signature does not verify/);
  });

  it("a token for other data is refused, and so is a reply that is no token", async () => {
    await expect(checkTokenSignature(genuine, Buffer.from("other"), [])).rejects.toThrow(/for other data/);
    await expect(checkTokenSignature(Buffer.from("garbage"), DATA, [])).rejects.toThrow(
      /not an RFC 3161 token/,
    );
  });

  it("a pinned CA file without a certificate is an error naming it", () => {
    expect(() => tsaCertificatesOfPem("hello", "tsa-ca.pem")).toThrow(/tsa-ca\.pem: no PEM certificate/);
  });
});
