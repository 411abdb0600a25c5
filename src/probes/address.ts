import type { Socket } from "node:net";
import type { Observed } from "../model/result.js";
import { causeChain } from "./failure.js";

/**
 * The network addresses behind a probe's requests (contract section 14, unreached targets): the
 * address a response came from, and the addresses a request that got no connection tried. Each
 * is written `scheme://ip:port` (an IPv6 address in brackets), so that a target reached under a
 * new spelling of its host (an alias, a DNS name for an IP) is still known to have answered.
 */

/** Per socket, its remote `ip:port`: read once per connection, while it is open. */
const remote = new WeakMap<Socket, string | null>();

/**
 * Notes the socket's remote address when a request is written on it (phases.ts): a connection the
 * server closes with its response has none left by the time the response is judged.
 */
export function noteRemote(socket: Socket): void {
  if (remote.has(socket)) return;
  const ip = socket.remoteAddress;
  const port = socket.remotePort;
  remote.set(socket, ip === undefined || port === undefined ? null : ipPort(ip, port));
}

/** Per socket, its `scheme://ip:port` once a response came on it (a socket serves one origin). */
const written = new WeakMap<Socket, string>();

/** `scheme://ip:port` of the connection that carried a response, or null when not known. */
export function answeredAddressOf(socket: Socket | null, origin: string): string | null {
  if (socket === null) return null;
  const known = written.get(socket);
  if (known !== undefined) return known;
  const address = remote.get(socket);
  if (address == null) return null;
  const full = `${schemeOf(origin)}//${address}`;
  written.set(socket, full);
  return full;
}

/**
 * The addresses a failed connection attempt names (`address` and `port` of a refused, unreachable
 * or timed-out connect, one per address tried when several were), in the order named; none for a
 * failure that names no address (a DNS failure, the harness's own deadline).
 */
export function triedAddressesOf(error: unknown, origin: string): string[] {
  const tried: string[] = [];
  for (const e of causeChain(error)) {
    const { address, port } = e as { address?: unknown; port?: unknown };
    if (typeof address !== "string" || typeof port !== "number") continue;
    const named = `${schemeOf(origin)}//${ipPort(address, port)}`;
    if (!tried.includes(named)) tried.push(named);
  }
  return tried;
}

/** What a result keeps of them in `observed` (`address` or `tried`); null when there is nothing. */
export function addressesObserved(answered: string | null, tried: readonly string[]): Observed | null {
  if (answered !== null) return { address: answered };
  return tried.length > 0 ? { tried } : null;
}

function schemeOf(origin: string): string {
  return origin.slice(0, origin.indexOf(":") + 1).toLowerCase();
}

function ipPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
