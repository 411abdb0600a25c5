import { createHash, randomBytes } from "node:crypto";

/**
 * RFC 3161 time-stamp requests and replies, only as much DER as slo-agent needs: the request is
 * built by hand (about 70 bytes), the reply is checked for its status, the imprint and nonce we
 * sent, and its genTime. Verifying the TSA's signature is left to `openssl ts -verify`.
 */

/** AlgorithmIdentifier of SHA-256 (2.16.840.1.101.3.4.2.1) with NULL parameters, as openssl writes it. */
const SHA256_ALGORITHM = Buffer.from("300d06096086480165030402010500", "hex");

/** The TSA's answer for a statement: kept in the report's evidence and as the bundle's statement.tsr. */
export interface StatementTimestamp {
  readonly tsa_url: string;
  /** The TSA's TimeStampResp (DER, base64): the bundle's statement.tsr. */
  readonly tsr_base64: string;
  /** When the TSA says it saw the statement (its genTime), ISO. */
  readonly gen_time: string;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const BOOLEAN = 0x01;
const GENERALIZED_TIME = 0x18;
/** [0] EXPLICIT, constructed. */
const CONTEXT_0 = 0xa0;

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

export interface TimestampRequest {
  /** The DER TimeStampReq (application/timestamp-query). */
  readonly der: Buffer;
  /** SHA-256 of the timestamped bytes. */
  readonly imprint: Buffer;
  /** The nonce as DER INTEGER content (positive, minimal). */
  readonly nonce: Buffer;
}

/** A TimeStampReq v1 for SHA-256(data), with certReq true and a random 64-bit nonce. */
export function timestampRequest(data: Buffer, nonce: Buffer = randomBytes(8)): TimestampRequest {
  const imprint = createHash("sha256").update(data).digest();
  // A positive INTEGER in minimal form: the first byte in 0x01..0x7f.
  const positive = Buffer.from(nonce);
  positive[0] = positive[0]! & 0x7f || 0x01;
  const body = Buffer.concat([
    der(INTEGER, Buffer.from([1])),
    der(SEQUENCE, Buffer.concat([SHA256_ALGORITHM, der(OCTET_STRING, imprint)])),
    der(INTEGER, positive),
    der(BOOLEAN, Buffer.from([0xff])),
  ]);
  return { der: der(SEQUENCE, body), imprint, nonce: positive };
}

interface Tlv {
  readonly tag: number;
  readonly content: Buffer;
}

/** The TLVs one after another in bytes; throws on anything malformed. */
function children(bytes: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new Error("truncated DER");
    const tag = bytes[at]!;
    if ((tag & 0x1f) === 0x1f) throw new Error("unexpected multi-byte DER tag");
    let length = bytes[at + 1]!;
    at += 2;
    if (length & 0x80) {
      const octets = length & 0x7f;
      if (octets === 0 || octets > 4 || at + octets > bytes.length) throw new Error("bad DER length");
      length = bytes.subarray(at, at + octets).reduce((n, b) => n * 256 + b, 0);
      at += octets;
    }
    if (at + length > bytes.length) throw new Error("truncated DER");
    out.push({ tag, content: bytes.subarray(at, at + length) });
    at += length;
  }
  return out;
}

function only(bytes: Buffer, tag: number, what: string): Tlv {
  const [first] = children(bytes);
  if (!first || first.tag !== tag) throw new Error(`no ${what}`);
  return first;
}

function child(parent: Tlv, index: number, tag: number, what: string): Tlv {
  const found = children(parent.content)[index];
  if (!found || found.tag !== tag) throw new Error(`no ${what}`);
  return found;
}

/** "20261201215959Z" or with fractions, to an ISO instant. */
function isoOfGeneralizedTime(text: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(text);
  if (!m) throw new Error(`genTime ${JSON.stringify(text)} is not a UTC GeneralizedTime`);
  const ms = m[7] ? Math.round(Number(`0${m[7]}`) * 1000) : 0;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms)).toISOString();
}

/** PKIStatus granted (0) and grantedWithMods (1) carry a token. */
const GRANTED = new Set([0, 1]);

/**
 * Checks a TimeStampResp against the request: status granted, a token whose TSTInfo has our
 * imprint and nonce. Returns the genTime (ISO); throws with a one-line reason otherwise.
 */
export function checkTimestampReply(reply: Buffer, request: TimestampRequest): string {
  const fields = tstInfoFields(reply);
  const imprint = child(fields[2] ?? { tag: 0, content: Buffer.alloc(0) }, 1, OCTET_STRING, "hashedMessage");
  if (!imprint.content.equals(request.imprint)) throw new Error("the token is for other data");
  const genTime = fields[4];
  if (!genTime || genTime.tag !== GENERALIZED_TIME) throw new Error("no genTime");
  const nonce = fields.slice(5).find((f) => f.tag === INTEGER);
  if (!nonce?.content.equals(request.nonce)) throw new Error("the token does not carry our nonce");
  return isoOfGeneralizedTime(genTime.content.toString("latin1"));
}

/** The TSTInfo's fields of a granted TimeStampResp; throws with a one-line reason otherwise. */
function tstInfoFields(reply: Buffer): Tlv[] {
  const response = only(reply, SEQUENCE, "TimeStampResp");
  const status = child(child(response, 0, SEQUENCE, "PKIStatusInfo"), 0, INTEGER, "PKIStatus");
  const code = status.content.length === 1 ? status.content[0]! : -1;
  if (!GRANTED.has(code)) throw new Error(`the TSA refused the request (PKIStatus ${code})`);
  const token = child(response, 1, SEQUENCE, "TimeStampToken");
  const signedData = only(child(token, 1, CONTEXT_0, "signedData").content, SEQUENCE, "SignedData");
  const encap = child(signedData, 2, SEQUENCE, "encapContentInfo");
  const octets = only(child(encap, 1, CONTEXT_0, "eContent").content, OCTET_STRING, "TSTInfo octets");
  return children(only(octets.content, SEQUENCE, "TSTInfo").content);
}

/** What a report shows of a timestamp token, as `openssl ts -reply -text` names it. */
export interface TimestampTokenInfo {
  /** The TSA's serial number of the token, as openssl prints it ("0x" and hex digits). */
  readonly serial: string;
  /** The message imprint: SHA-256 (hex) of the bytes the TSA timestamped. */
  readonly imprintSha256: string;
  readonly genTime: string;
}

/** Reads a stored token (a TimeStampResp); throws with a one-line reason when it is not one. */
export function timestampTokenInfo(reply: Buffer): TimestampTokenInfo {
  const fields = tstInfoFields(reply);
  const imprint = child(fields[2] ?? { tag: 0, content: Buffer.alloc(0) }, 1, OCTET_STRING, "hashedMessage");
  const serial = fields[3];
  if (!serial || serial.tag !== INTEGER) throw new Error("no serialNumber");
  const genTime = fields[4];
  if (!genTime || genTime.tag !== GENERALIZED_TIME) throw new Error("no genTime");
  // DER keeps a leading zero octet only to keep the number positive; openssl prints without it.
  const digits = serial.content
    .toString("hex")
    .replace(/^(00)+(?=..)/, "")
    .toUpperCase();
  return {
    serial: `0x${digits}`,
    imprintSha256: imprint.content.toString("hex"),
    genTime: isoOfGeneralizedTime(genTime.content.toString("latin1")),
  };
}
