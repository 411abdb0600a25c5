import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** Who may use the admin API (/__sim/), which changes what every probe of the simulator sees. */
export interface AdminAccess {
  /** The simulator listens on loopback only. */
  readonly loopbackOnly: boolean;
  /** When set, every admin request needs `Authorization: Bearer <token>`. */
  readonly token: string | null;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1";
}

/**
 * Why an admin request is refused, or null. On loopback the Host header must name loopback: a
 * web page whose DNS name was rebound to 127.0.0.1 sends its own name and is refused. Off
 * loopback (allowed only on request) a token is required, and with no token nothing is allowed.
 */
export function adminRefusal(
  headers: { host?: string | undefined; authorization?: string | undefined },
  access: AdminAccess,
): string | null {
  if (access.loopbackOnly && !LOOPBACK_NAMES.has(hostName(headers.host ?? ""))) {
    return "admin API: the Host header must be localhost, 127.0.0.1 or [::1]";
  }
  if (access.token === null) {
    return access.loopbackOnly ? null : "admin API: off loopback it needs a token, and none is configured";
  }
  const given = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1] ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(access.token);
  return a.length === b.length && timingSafeEqual(a, b) ? null : "admin API: missing or wrong bearer token";
}

/** "localhost:8080" -> "localhost", "[::1]:80" -> "[::1]", lower-cased. */
function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  const colon = lower.indexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}
