import { createSecureContext } from "node:tls";
import { describe, expect, it } from "vitest";
import { selfSignedCertificate, serialOf } from "../../src/sim/certificate.js";

describe("the simulator's self-signed certificate", () => {
  it("its serial is a positive INTEGER in minimal DER whatever the random bytes (a 0x00 first byte once failed the start)", () => {
    for (const first of [0x00, 0x01, 0x3f, 0x7f, 0x80, 0xff]) {
      const serial = serialOf(Uint8Array.from([first, 0x10, 1, 2, 3, 4, 5, 6]));
      // Neither negative (top bit set) nor padded (0x00 before a byte below 0x80).
      expect(serial[0]! & 0x80).toBe(0);
      expect(serial[0]).not.toBe(0);
      expect(serial.slice(1)).toEqual(Uint8Array.from([0x10, 1, 2, 3, 4, 5, 6]));
    }
  });

  it("OpenSSL loads it and its key", async () => {
    for (let i = 0; i < 20; i++) {
      const { certPem, keyPem } = await selfSignedCertificate(Date.now());
      expect(() => createSecureContext({ cert: certPem, key: keyPem })).not.toThrow();
    }
  });
});
