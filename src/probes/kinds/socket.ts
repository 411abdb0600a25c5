import type { Socket } from "node:net";
import type { Phases } from "../../model/result.js";
import type { Observation, ProbeContext } from "../probe.js";

/** Phases of a run that sent no HTTP request: name lookup, connect and handshake only. */
export function socketPhases(dnsMs: number | null, connectMs: number | null, tlsMs: number | null): Phases {
  return { dnsMs, connectMs, tlsMs, requestSentMs: null, ttfbMs: null, bodyEndMs: null };
}

/**
 * Waits for `event` on a socket being opened, timing lookup and connect from the run's start.
 * The run's signal (deadline, agent stopping) destroys the socket and rejects with its reason.
 */
export function opened(
  socket: Socket,
  event: "connect" | "secureConnect",
  ctx: ProbeContext,
): Promise<{ dnsMs: number | null; connectMs: number | null; readyMs: number }> {
  const at = () => ctx.clock.monotonic() - ctx.startedAt;
  let dnsMs: number | null = null;
  let connectMs: number | null = null;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      socket.destroy();
      reject(ctx.signal.reason);
    };
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    socket.once("lookup", () => {
      dnsMs = at();
    });
    socket.once("connect", () => {
      connectMs = at();
    });
    socket.once(event, () => {
      ctx.signal.removeEventListener("abort", onAbort);
      resolve({ dnsMs, connectMs: connectMs ?? at(), readyMs: at() });
    });
    socket.once("error", (error) => {
      ctx.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    });
  });
}

/** The observation of a kind without HTTP: no status, headers or body. */
export function plainObservation(
  fields: Pick<Observation, "phases" | "observed" | "detail"> & { readonly failure?: string | null },
): Observation {
  return {
    status: null,
    headers: {},
    body: new Uint8Array(),
    error: null,
    bodyError: null,
    connected: true,
    roundTripMs: null,
    flags: [],
    failure: null,
    ...fields,
  };
}
