import { createHash, timingSafeEqual } from "node:crypto";
import type { Secret } from "../model/secret.js";

/** 200: allowed; 401: a wrong or missing token; 403: no admin token is configured at all. */
export type AdminVerdict = 200 | 401 | 403;

/**
 * Checks `Authorization: Bearer TOKEN` against agent.admin_token. Both sides are hashed first so
 * the comparison takes the same time whatever the length or the first differing byte.
 */
export function authorizeAdmin(header: string | undefined, token: Secret | null): AdminVerdict {
  if (token === null) return 403;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const offered = createHash("sha256")
    .update(match?.[1] ?? "")
    .digest();
  const expected = createHash("sha256").update(token.reveal()).digest();
  return match !== null && timingSafeEqual(offered, expected) ? 200 : 401;
}
