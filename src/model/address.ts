/**
 * Network addresses in one spelling (contract section 14): the same server is met under several
 * (an IPv4-mapped IPv6 address, the unspecified address the kernel connects to the local host,
 * compressed or expanded IPv6), and an outage must not hide behind a new one. Pure: no lookups.
 */

/**
 * An IP address in canonical form: IPv4-mapped IPv6 as its IPv4 address, IPv6 compressed and
 * lower case, and every address of the local host as 127.0.0.1: all of 127.0.0.0/8 and ::1 (a
 * server listening on 0.0.0.0 or :: answers on each of them) and the unspecified 0.0.0.0 and ::
 * (a connect to them reaches the local host). Brackets are dropped. Anything that is no IP literal
 * comes back lower case.
 */
export function canonicalIp(ip: string): string {
  const bare = ip.replace(/^\[|\]$/g, "").toLowerCase();
  let host: string;
  try {
    // WHATWG URL parsing normalises both families (IPv6 compressed, mapped IPv4 in hex words).
    host = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return bare;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const hi = Number.parseInt(mapped[1]!, 16);
    const lo = Number.parseInt(mapped[2]!, 16);
    host = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return isLocalHost(host) ? "127.0.0.1" : host;
}

/** Whether a canonical-looking IP (IPv4 dotted, IPv6 compressed lower case) is the local host. */
function isLocalHost(host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === "0.0.0.0" || host === "::1" || host === "::";
}

/**
 * A recorded address (`scheme://ip:port`, IPv6 in brackets, as `observed.address` and
 * `observed.tried` hold it) in canonical form; text that is no such address comes back as is.
 */
export function canonicalAddress(address: string): string {
  const parts = /^([a-z][a-z0-9+.-]*:\/\/)((?:\[[^\]]*\]|[^:/]*):\d+)$/i.exec(address);
  return parts ? `${parts[1]!.toLowerCase()}${canonicalEndpoint(parts[2]!)}` : address;
}

/**
 * The `ip:port` of a recorded address in canonical form, without its scheme (one socket, any
 * protocol): `scheme://ip:port`, or a tcp result's bare `ip:port` (IPv6 unbracketed, the port
 * after the last colon). Text that is no such address comes back as is.
 */
export function canonicalEndpoint(address: string): string {
  const bare = address.includes("://") ? address.slice(address.indexOf("://") + 3) : address;
  const parts = /^(\[[^\]]*\]|.*):(\d+)$/.exec(bare);
  if (!parts) return address;
  const ip = canonicalIp(parts[1]!);
  return `${ip.includes(":") ? `[${ip}]` : ip}:${Number(parts[2])}`;
}

/** Host names that always mean the local host (RFC 6761: localhost and its subdomains). */
const LOOPBACK_NAMES = /^(localhost|.+\.localhost)$/;

/**
 * The host of a URL as a key for "the same host": an IP literal in canonical form, a name lower
 * case without a trailing dot, and every spelling of the local host (localhost, 127.0.0.0/8, ::1,
 * 0.0.0.0, ::) as one. Null for text that is no URL.
 */
export function hostKeyOf(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const host = canonicalIp(new URL(url).hostname).replace(/\.$/, "");
  return LOOPBACK_NAMES.test(host) || host === "127.0.0.1" ? "localhost" : host;
}

/** The port a URL connects to: its own, or its scheme's default. Null for text that is no URL. */
export function portOf(url: string): number | null {
  if (!URL.canParse(url)) return null;
  const { port, protocol } = new URL(url);
  return port !== "" ? Number(port) : protocol === "https:" ? 443 : 80;
}
