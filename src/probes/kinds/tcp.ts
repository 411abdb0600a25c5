import { connect } from "node:net";
import * as z from "zod";
import type { ProbeSpecBase, TcpProbeSpec } from "../../model/config.js";
import type { Probe } from "../probe.js";
import { opened, plainObservation, socketPhases } from "./socket.js";

/** The keys of a `kind: tcp` probe besides id, kind, every/schedule and timeout_ms. */
export const tcpFields = {
  host: z.string().min(1, "must not be empty").describe("(tcp, tls) Host name or address to connect to."),
  port: z
    .number()
    .int()
    .min(1, "must be a port 1-65535")
    .max(65535, "must be a port 1-65535")
    .describe("(tcp, tls) Port to connect to."),
};

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
