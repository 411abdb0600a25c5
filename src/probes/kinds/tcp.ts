import { connect } from "node:net";
import type { ProbeSpecBase, TcpProbeSpec } from "../../model/config.js";
import type { Probe } from "../probe.js";
import { opened, plainObservation, socketPhases } from "./socket.js";

export function tcpSpecOf(wire: { host: string; port: number }, base: ProbeSpecBase): TcpProbeSpec {
  return { ...base, kind: "tcp", target: null, host: wire.host, port: wire.port };
}

/** Opens a TCP connection and closes it: the connect time is the measurement. */
export const tcpProbe: Probe<TcpProbeSpec> = {
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
};
