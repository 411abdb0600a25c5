import type { TokenSigner } from "./timestamp-signature.js";

/**
 * An anchor: a party outside the agent that attests a signed statement existed by some time, so
 * that a key stolen later cannot back-date one. RFC 3161 time-stamp authorities today
 * (rfc3161-anchor.ts); a transparency log or another witness would be one more file behind this
 * interface. The anchor builds its request and checks the answer; the caller carries the request
 * (HTTP to agent.tsa_url) and stores the token (the bundle's statement.tsr).
 */
export interface Anchor {
  readonly kind: string;
  /** What to send to the anchor so that it attests `data`, and how to accept its answer. */
  stamp(data: Buffer): AnchorRequest;
  /**
   * Checks a stored token over `data`; `trusted`: DER CA certificates the anchor must chain to
   * (empty: only the token's own consistency). Throws AnchorImprintMismatch for a token over other
   * data, otherwise an Error with a one-line reason.
   */
  verify(token: Buffer, data: Buffer, trusted: readonly Buffer[]): Promise<TokenSigner>;
}

export interface AnchorRequest {
  /** The request's body and its media types, as the anchor's protocol names them. */
  readonly body: Buffer;
  readonly contentType: string;
  readonly accept: string;
  /**
   * Checks the anchor's reply to this request (granted, for our data and nonce, its signature
   * holding and chaining to `trusted` when given); returns when it attests the data (ISO).
   * Throws with a one-line reason.
   */
  check(reply: Buffer, trusted: readonly Buffer[]): Promise<string>;
}

/** A token that attests other data than the data it is checked against. */
export class AnchorImprintMismatch extends Error {
  constructor(
    /** SHA-256 (hex) of the data the token attests. */
    readonly attested: string,
    /** SHA-256 (hex) of the data it was checked against. */
    readonly expected: string,
  ) {
    super(`the token attests SHA-256 ${attested}, not ${expected}`);
  }
}
