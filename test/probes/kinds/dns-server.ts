import { type DnsServer, startDnsServer as startSimulatedDns } from "../../../src/sim/dns.js";

export type { DnsServer };

/** The simulator's DNS server on loopback, knowing a few A records and answering NXDOMAIN for the rest. */
export function startDnsServer(records: Readonly<Record<string, string>>): Promise<DnsServer> {
  return startSimulatedDns((name) => records[name] ?? null);
}
