/**
 * What a Prometheus-compatible server's text may show when the report's request carried a bearer
 * token (contract section 15: no secret, nor any part of it a hostile server echoes back). Each
 * case is a way a hostile proxy wrote the token back (hostile reviews, rounds 9 to 11).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { remoteText, spellsToken } from "../../src/reports/remote-text.js";

const TOKEN = "s3cr3t-T0ken-abcdefghij";
const bytes = Buffer.from(TOKEN);
const hex = bytes.toString("hex");
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(data: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(value >> bits) & 31];
    }
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
}

const FORMS: readonly (readonly [string, string])[] = [
  ["whole", TOKEN],
  ["upper case", TOKEN.toUpperCase()],
  ["cut short", TOKEN.slice(0, 12)],
  ["split by a space", TOKEN.replace("-T0ken-", " T0ken-")],
  ["a BEL inside", `${TOKEN.slice(0, 6)}\u0007${TOKEN.slice(6)}`],
  ["a right-to-left override inside", `${TOKEN.slice(0, 10)}\u202e${TOKEN.slice(10)}`],
  ["fullwidth", [...TOKEN].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join("")],
  ["a combining underline after each character", [...TOKEN].map((c) => `${c}\u0332`).join("")],
  // Round 15: NFKC composed each letter with its accent before the marks were stripped.
  [
    "an acute accent after each letter",
    [...TOKEN].map((c) => (/[a-z]/i.test(c) ? `${c}\u0301` : c)).join(""),
  ],
  [
    "every second character %-encoded",
    [...TOKEN].map((c, i) => (i % 2 ? `%${c.charCodeAt(0).toString(16)}` : c)).join(""),
  ],
  ["each character four times", [...TOKEN].map((c) => c.repeat(4)).join("")],
  [
    "as \\U00000073 escapes",
    [...TOKEN].map((c) => `\\U${c.charCodeAt(0).toString(16).padStart(8, "0")}`).join(""),
  ],
  // Round 16.
  ["as C hex bytes", [...bytes].map((b) => `0x${b.toString(16)}`).join(",")],
  // Round 18.
  ["as C hex bytes of three digits", [...bytes].map((b) => `0x${b.toString(16).padStart(3, "0")}`).join(",")],
  ["as C hex bytes of five digits", [...bytes].map((b) => `0X${b.toString(16).padStart(5, "0")}`).join(" ")],
  ["a dot between characters", [...TOKEN].join(".")],
  ["base64", bytes.toString("base64")],
  ["base64 after 'x'", Buffer.from(`x${TOKEN}`).toString("base64")],
  ["base64 of base64", Buffer.from(bytes.toString("base64")).toString("base64")],
  ["base64 of UTF-16", Buffer.from(TOKEN, "utf16le").toString("base64")],
  ["base64 of the token reversed", Buffer.from([...TOKEN].reverse().join("")).toString("base64")],
  ["JSON-escaped base64", bytes.toString("base64").replaceAll("/", "\\/").replaceAll("+", "\\u002b")],
  ["base32", base32(bytes)],
  ["hex", hex],
  ["hex with colons", hex.match(/../g)!.join(":")],
  ["hex with spaces", hex.match(/../g)!.join(" ")],
  [
    "quoted-printable",
    hex
      .match(/../g)!
      .map((b) => `=${b.toUpperCase()}`)
      .join(""),
  ],
  ["octal escapes", [...bytes].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("")],
  ["\\u escapes", [...TOKEN].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")],
  ["zero-padded decimal entities", [...TOKEN].map((c) => `&#0${c.charCodeAt(0)};`).join("")],
  ["hex entities", [...TOKEN].map((c) => `&#x${c.charCodeAt(0).toString(16)};`).join("")],
  ["URL-encoded", [...bytes].map((b) => `%${b.toString(16)}`).join("")],
  [
    "ROT13",
    TOKEN.replace(/[a-z]/gi, (c) =>
      String.fromCharCode(((c.charCodeAt(0) - (c <= "Z" ? 65 : 97) + 13) % 26) + (c <= "Z" ? 65 : 97)),
    ),
  ],
  ["reversed", [...TOKEN].reverse().join("")],
  ["reversed, a space between characters", [...TOKEN].reverse().join(" ")],
  ["each character twice", [...TOKEN].map((c) => c + c).join("")],
  ["another character between each", [...TOKEN].join("x")],
  ["UTF-16 as hex", Buffer.from(TOKEN, "utf16le").toString("hex")],
  ["UTF-16BE as base64", Buffer.from(TOKEN, "utf16le").swap16().toString("base64")],
];

/** Every run of 8 of the token's characters, for a text that must hold none. */
const runs = Array.from({ length: TOKEN.length - 7 }, (_, i) => TOKEN.slice(i, i + 8).toLowerCase());

describe("remote text shown by report --prometheus", () => {
  const shown = remoteText(TOKEN);

  for (const [how, form] of FORMS) {
    it(`never shows the token written ${how}`, () => {
      const out = shown(`partial answer: credentials ${form} refused`);
      expect(out).not.toContain(form);
      for (const run of runs) expect(out.toLowerCase()).not.toContain(run);
    });
  }

  it("leaves what holds no part of the token as it was", () => {
    for (const text of [
      "payment_request",
      "eu-west-1",
      "partial response: store eu-2 (10.0.0.7:10901) unavailable",
      `data ${Buffer.from("an unrelated value, base64").toString("base64")} ${"0123456789abcdef".repeat(2)}`,
      "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)",
    ]) {
      expect(shown(text)).toBe(text);
    }
  });

  it("reads at most 320 characters of a text: a hostile answer's megabyte-long label is cut, not decoded whole", () => {
    const long = "QUJD".repeat(1_500_000);
    const out = shown(long);
    expect(out).toBe(`${long.slice(0, 320)}...`);
    expect(shown(`${"x".repeat(316)}${TOKEN}`)).not.toContain(TOKEN.slice(0, 8));
  });

  it("reads a thousand distinct texts against a long token in bounded work (round 14: ~150 ms a text with a 200-character token, each decoded view scanned by thousands of forms)", {
    timeout: 60_000,
  }, () => {
    const digest = (seed: string) => createHash("sha512").update(seed).digest();
    const long = Buffer.concat([digest("a"), digest("b")])
      .toString("base64url")
      .slice(0, 200);
    const read = remoteText(long);
    for (let i = 0; i < 990; i++) {
      const text = Buffer.concat([0, 1, 2, 3].map((k) => digest(`${i}.${k}`)))
        .toString("base64")
        .slice(0, 320);
      expect(read(text)).toBe(text);
    }
    const echoed = Buffer.from(`x${long.slice(50, 90)}`).toString("base64");
    expect(read(`z ${echoed}`)).not.toContain(echoed.slice(4, 20));
  });

  // What an honest month's answers label: regions, the categories, outcomes and bounds.
  const HONEST_LABELS = [
    ...["region", "category", "outcome", "le", "eu", "na", "oc", "eu-west-1", "us-east-2", "ap-southeast-1"],
    ...[
      "payment_request",
      "customer_token_charge",
      "read_only_payment_transaction",
      "settlements",
      "disputes",
    ],
    ...[
      "served",
      "failed",
      "excluded",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "+Inf",
    ],
  ];

  it("tells labels that spell out the token in short pieces from honest ones", () => {
    expect(spellsToken(TOKEN, ["s3cr3t-", "T0ken-a", "bcdefgh", "ij"])).toBe(true);
    expect(spellsToken(TOKEN, ["S3CR3", "T-T0K", "EN-AB", "CDEFG"])).toBe(true);
    expect(spellsToken(TOKEN, ["eu", "na", "oc", "eu-west-1", "us-east-2", "ap-southeast-1", "s3c"])).toBe(
      false,
    );
    expect(spellsToken(undefined, ["s3cr3t-", "T0ken-a", "bcdefgh", "ij"])).toBe(false);
    for (let seed = 0; seed < 50; seed++) {
      const random = createHash("sha256").update(String(seed)).digest("base64url").slice(0, 32);
      const hex = createHash("sha256").update(String(seed)).digest("hex").slice(0, 40);
      for (const token of [random, hex]) {
        expect(spellsToken(token, HONEST_LABELS)).toBe(false);
      }
    }
  });

  it("without a token, strips control and invisible characters only", () => {
    expect(remoteText(undefined)(`eu\u001b[31m\u200b-1 ${TOKEN}`)).toBe(`eu[31m-1 ${TOKEN}`);
  });
});
