import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type TLSSocket } from "node:tls";
import type { Clock } from "../clock/clock.js";
import { selfSignedCertificate } from "./certificate.js";
import { startDnsServer } from "./dns.js";

/**
 * The network around the simulated API that the diagnostics (tls, dns, tcp probes) measure,
 * on loopback with nothing from outside: a TLS listener with a certificate made at start, its CA
 * in a file a tls probe can trust (ca_file), and a DNS server that answers every A question with
 * the simulator's own address, as the provider's name servers would answer its API's name.
 */
export interface SimulatedNetwork {
  readonly tls: { readonly host: string; readonly port: number; readonly caFile: string };
  /** "127.0.0.1:PORT", for a dns probe's `server`. */
  readonly dnsServer: string;
  close(): Promise<void>;
}

export async function startSimulatedNetwork(clock: Clock, host = "127.0.0.1"): Promise<SimulatedNetwork> {
  const { certPem, keyPem } = await selfSignedCertificate(clock.now());
  const dir = await mkdtemp(join(tmpdir(), "slo-simulator-ca-"));
  const caFile = join(dir, "ca.pem");
  await writeFile(caFile, certPem);
  const sockets = new Set<TLSSocket>();
  // A handshake is all a tls probe asks for; the connection is then closed.
  const server = createServer({ key: keyPem, cert: certPem }, (socket) => socket.end());
  server.on("secureConnection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A client that leaves mid-handshake is its own business, not the simulator's failure.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const dns = await startDnsServer(() => host, host);
  return {
    tls: { host, port: (server.address() as AddressInfo).port, caFile },
    dnsServer: dns.server,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
