import { connect } from "node:net";
import type * as Zod from "zod";
import type { ProbeSpecBase } from "../../model/config.js";
import { diagnosticKind } from "./kind.js";
import { opened, plainObservation, socketPhases } from "./socket.js";

/** A TCP connection to host:port, timed, then closed. */
export interface TcpProbeSpec extends ProbeSpecBase {
  readonly kind: "tcp";
  readonly host: string;
  readonly port: number;
}

declare module "../../model/config.js" {
  interface DiagnosticProbeSpecs {
    tcp: TcpProbeSpec;
  }
}

/** The host and port keys (tls has them too). */
export function hostPortFields(z: typeof Zod) {
  return {
    host: z.string().min(1, "must not be empty").describe("(tcp, tls) Host name or address to connect to."),
    port: z
      .number()
      .int()
      .min(1, "must be a port 1-65535")
      .max(65535, "must be a port 1-65535")
      .describe("(tcp, tls) Port to connect to."),
  };
}

/** Opens a TCP connection and closes it: the connect time is the measurement. */
export const tcpKind = diagnosticKind({
  kind: "tcp",
  fields: hostPortFields,
  toSpec: (wire, base): TcpProbeSpec => ({
    ...base,
    kind: "tcp",
    target: null,
    host: wire.host,
    port: wire.port,
  }),
  forSimulator: (spec, network) => ({ ...spec, host: network.tls.host, port: network.tls.port }),
  probe: {
    kind: "tcp",
    async observe(spec, ctx) {
      const socket = connect({ host: spec.host, port: spec.port });
      try {
        const { dnsMs, connectMs } = await opened(socket, "connect", ctx);
        const address = `${socket.remoteAddress}:${socket.remotePort}`;
        return plainObservation({
          phases: socketPhases(dnsMs, connectMs, null),
          observed: { kind: "tcp", connect_ms: Math.round(connectMs ?? 0), address },
          detail: `connected to ${address}`,
        });
      } finally {
        socket.destroy();
      }
    },
  },
});
