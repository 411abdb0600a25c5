import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { Secret } from "../../src/model/secret.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import { httpServer, httpSpec, json, type Loopback, target } from "./loopback.js";

/**
 * A server echoes a probe's own credential back in an encoding a filter of the bare value misses,
 * inside the error code it answers with. Each form below must come out of the result redacted
 * (docs/security.md lists them). A real server on loopback; the probe sends the key in a header.
 */
/** 19 characters: its base64 does not end on a 3-byte boundary, as most do not. */
const S = "SuperSecretToken427";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const bytes = [...Buffer.from(S)];

/** name -> [what the server echoes, the part of it that gives the secret away]. */
const FORMS: Record<string, readonly [string, string]> = {
  "base64 at offset 0, followed by more": [b64(`${S}tail`), b64(S).slice(0, 20)],
  "base64 at offset 1": [b64(`x${S}`), b64(`x${S}`).slice(3, -3)],
  "base64 at offset 2": [b64(`xy${S}`), b64(`xy${S}`).slice(4, -3)],
  "base64 of user:secret": [b64(`user:${S}`), b64(`user:${S}`).slice(8, -2)],
  "base64url at offset 1": [
    Buffer.from(`x?${S}`).toString("base64url"),
    Buffer.from(`x?${S}`).toString("base64url").slice(4, -3),
  ],
  "every byte percent-encoded, upper-case hex": [
    bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join(""),
    bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join(""),
  ],
  "every byte percent-encoded, lower-case hex": [
    bytes.map((b) => `%${b.toString(16)}`).join(""),
    bytes.map((b) => `%${b.toString(16)}`).join(""),
  ],
  "every byte percent-encoded, URL-encoded once more": [
    bytes.map((b) => `%25${b.toString(16).toUpperCase()}`).join(""),
    bytes.map((b) => `%25${b.toString(16).toUpperCase()}`).join(""),
  ],
  "hex, lower case": [Buffer.from(S).toString("hex"), Buffer.from(S).toString("hex")],
  "hex, upper case": [
    Buffer.from(S).toString("hex").toUpperCase(),
    Buffer.from(S).toString("hex").toUpperCase(),
  ],
  "HTML decimal entities": [[...S].map((c) => `&#${c.charCodeAt(0)};`).join(""), "&#83;&#117;&#112;"],
  "HTML hex entities": [[...S].map((c) => `&#x${c.charCodeAt(0).toString(16)};`).join(""), "&#x53;&#x75;"],
  "\\u escapes": [[...S].map((c) => `\\u00${c.charCodeAt(0).toString(16)}`).join(""), "\\u0053\\u0075"],
  "a zero-width space inside": [`${S.slice(0, 4)}\u200b${S.slice(4)}`, S.slice(4)],
  "a word joiner inside": [`${S.slice(0, 4)}\u2060${S.slice(4)}`, S.slice(4)],
  "a soft hyphen inside": [`${S.slice(0, 9)}\u00ad${S.slice(9)}`, S.slice(0, 9)],
};

let server: Loopback;
let echo = "";

beforeAll(async () => {
  server = await httpServer({ "/echo": (_req, res) => json(res, 400, { error_code: `E:${echo}:E` }) });
});
afterAll(async () => server.close());

async function probeOnce(): Promise<string | null> {
  const t = target(server.origin, { headers: { "X-Api-Key": new Secret(S) } });
  const dispatcher: Dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    const { result } = await runProbe({ spec: httpSpec("/echo"), target: t, dispatcher, clock: systemClock });
    return result.errorCode;
  } finally {
    await dispatcher.destroy();
  }
}

describe("a credential echoed back encoded", () => {
  for (const [name, [echoed, giveaway]] of Object.entries(FORMS)) {
    it(`is redacted: ${name}`, async () => {
      echo = echoed;
      const errorCode = await probeOnce();
      expect(errorCode).toContain("[redacted]");
      expect(errorCode?.startsWith("E:")).toBe(true);
      expect(errorCode?.toLowerCase()).not.toContain(giveaway.toLowerCase());
    });
  }
});
