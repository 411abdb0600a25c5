import { createHash } from "node:crypto";
import { type Anchor, AnchorImprintMismatch, type AnchorRequest } from "./anchor.js";
import { checkTimestampReply, timestampRequest, timestampTokenInfo } from "./timestamp.js";
import { checkTokenSignature, type TokenSigner } from "./timestamp-signature.js";

/** RFC 3161 time-stamp authorities behind the Anchor seam: a token is a TimeStampResp (DER). */
export const RFC3161_ANCHOR: Anchor = {
  kind: "rfc3161",

  stamp(data: Buffer): AnchorRequest {
    const tsq = timestampRequest(data);
    return {
      body: tsq.der,
      contentType: "application/timestamp-query",
      accept: "application/timestamp-reply",
      async check(reply: Buffer, trusted: readonly Buffer[]): Promise<string> {
        const genTime = checkTimestampReply(reply, tsq);
        await checkTokenSignature(reply, data, trusted);
        return genTime;
      },
    };
  },

  /** A granted token whose imprint is SHA-256(data) and whose TSA signature holds. */
  async verify(token: Buffer, data: Buffer, trusted: readonly Buffer[]): Promise<TokenSigner> {
    let imprint: string;
    try {
      imprint = timestampTokenInfo(token).imprintSha256;
    } catch (error) {
      throw new Error(`not a granted RFC 3161 time-stamp reply (${(error as Error).message})`);
    }
    const expected = createHash("sha256").update(data).digest("hex");
    if (imprint !== expected) throw new AnchorImprintMismatch(imprint, expected);
    return checkTokenSignature(token, data, trusted);
  },
};
