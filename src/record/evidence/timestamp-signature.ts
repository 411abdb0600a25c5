import { X509Certificate } from "node:crypto";
import type * as Pkijs from "pkijs";

/**
 * The TSA's signature on an RFC 3161 token, checked in code with pkijs (CMS SignedData): the
 * signed attributes' message digest matches the TSTInfo, the signature holds under the key of the
 * signer certificate the token names, that certificate is for time-stamping only (extended key
 * usage timeStamping, RFC 3161 section 2.3), the TSTInfo's imprint is the data's SHA-256, and,
 * when CA certificates are pinned, the signer certificate chains to one of them at the token's
 * genTime. Without pinned CAs the check proves the token is intact and self-consistent, not which
 * TSA made it: any key can sign a self-consistent token.
 */

/** id-kp-timeStamping (RFC 3280 4.2.1.13). */
const TIME_STAMPING = "1.3.6.1.5.5.7.3.8";
/** id-ce-extKeyUsage. */
const EXT_KEY_USAGE = "2.5.29.37";

/** Whom the token names as its signer, and whether that was checked against pinned CAs. */
export interface TokenSigner {
  /** The signer certificate's subject, as openssl prints it (`CN=Test TSA`). */
  readonly subject: string;
  /** True when the signer certificate chains to a pinned TSA CA certificate. */
  readonly chained: boolean;
}

/** One line saying why a token's signature is refused. */
export class TokenSignatureError extends Error {}

/** The certificates of a PEM file (one or more `BEGIN CERTIFICATE` blocks); throws on none. */
export function tsaCertificatesOfPem(pem: string, what: string): readonly Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${what}: no PEM certificate in it`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block).raw;
    } catch (error) {
      throw new Error(`${what}: not a certificate (${(error as Error).message})`);
    }
  });
}

/**
 * Checks the signature of the TimeStampResp `reply` over `data` (the bytes timestamped). `trusted`:
 * DER CA certificates the signer must chain to; empty: only the token's own consistency. Throws
 * TokenSignatureError with a one-line reason.
 */
export async function checkTokenSignature(
  reply: Buffer,
  data: Buffer,
  trusted: readonly Buffer[],
): Promise<TokenSigner> {
  // Loaded here, not at start-up: pkijs and its ASN.1 stack cost every command that opens a store
  // about a fifth of a CPU-second, and only a timestamped bundle or report needs them.
  const pkijs = await import("pkijs");
  const signed = signedDataOf(pkijs, reply);
  let result: Pkijs.SignedDataVerifyResult;
  try {
    result = await signed.verify({
      signer: 0,
      data: arrayBufferOf(data),
      trustedCerts: trusted.map((der) => pkijs.Certificate.fromBER(arrayBufferOf(der))),
      checkChain: trusted.length > 0,
      extendedMode: true,
    });
  } catch (error) {
    throw new TokenSignatureError(reasonOf(pkijs, error));
  }
  const signer = result.signerCertificate;
  if (!result.signatureVerified || !signer)
    throw new TokenSignatureError("the TSA's signature does not verify with the certificate the token names");
  const x509 = new X509Certificate(Buffer.from(signer.toSchema().toBER(false)));
  if (!timeStampingOnly(signer))
    throw new TokenSignatureError(`the signer certificate (${x509.subject}) is not for time-stamping`);
  return { subject: x509.subject.replaceAll("\n", ", "), chained: trusted.length > 0 };
}

function signedDataOf(pkijs: typeof Pkijs, reply: Buffer): Pkijs.SignedData {
  try {
    const response = pkijs.TimeStampResp.fromBER(arrayBufferOf(reply));
    if (!response.timeStampToken) throw new Error("no token");
    return new pkijs.SignedData({ schema: response.timeStampToken.content });
  } catch (error) {
    throw new TokenSignatureError(`not an RFC 3161 token (${(error as Error).message})`);
  }
}

/** RFC 3161 2.3: the TSA's certificate has exactly one extended key usage, timeStamping, critical. */
function timeStampingOnly(certificate: Pkijs.Certificate): boolean {
  const extension = certificate.extensions?.find((e) => e.extnID === EXT_KEY_USAGE);
  const usage = extension?.parsedValue as Pkijs.ExtKeyUsage | undefined;
  return (
    extension?.critical === true && usage?.keyPurposes.length === 1 && usage.keyPurposes[0] === TIME_STAMPING
  );
}

/** pkijs' codes as plain words: the chain, the imprint or the signature. */
function reasonOf(pkijs: typeof Pkijs, error: unknown): string {
  if (error instanceof pkijs.SignedDataVerifyError) {
    if (error.code === 5) return "the TSA's certificate does not chain to the pinned TSA CA certificate";
    if (error.code === 3) return "the token does not carry its signer's certificate (certReq)";
    if (/TSTInfo verification/.test(error.message)) return "the token is for other data";
    if (/Message digest/.test(error.message)) return "the token's content does not match its signed digest";
    return error.message;
  }
  return (error as Error).message;
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
