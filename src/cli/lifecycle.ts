/** A repeat of the stopping signal sooner than this is the same request (Ctrl-C reaches a process twice under npm). */
const SAME_REQUEST_MS = 1_000;

/** What arrived while `run` or `demo` was starting (catchSignalsWhileStarting), and its listeners. */
interface Starting {
  stop: NodeJS.Signals | null;
  hangup: boolean;
  readonly onStop: (signal: NodeJS.Signals) => void;
  readonly onHangup: () => void;
}

let starting: Starting | null = null;

/**
 * Called first thing by `run` and `demo` (main.ts), before the command's modules load and the
 * agent starts (about half a second): until then a signal's default action killed the agent
 * outright, with no clean stop and no `run_end` (AUDIT-23f 6). A SIGINT or SIGTERM meanwhile is
 * remembered and honoured by untilSignalled as soon as the agent is up (a clean stop); a SIGHUP is
 * queued and handed to the reload handler once onHangup installs it.
 */
export function catchSignalsWhileStarting(): void {
  if (starting !== null) return;
  const state: Starting = {
    stop: null,
    hangup: false,
    onStop: (signal) => {
      state.stop ??= signal;
    },
    onHangup: () => {
      state.hangup = true;
    },
  };
  process.on("SIGINT", state.onStop);
  process.on("SIGTERM", state.onStop);
  process.on("SIGHUP", state.onHangup);
  starting = state;
}

/**
 * Resolves on the first SIGINT or SIGTERM (one that arrived while the agent was starting too); another one while shutting down exits at once, so a
 * stuck shutdown can always be interrupted. Under `npm start` a Ctrl-C arrives twice (from the
 * terminal and forwarded by the launcher), so a repeat within a second is not a second request.
 */
export function untilSignalled(now: () => number = () => performance.now()): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      const first = now();
      const force = () => {
        if (now() - first >= SAME_REQUEST_MS) process.exit(130);
      };
      // The new listeners first: removing a signal's last listener restores its default action,
      // and the launcher's forwarded Ctrl-C, arriving in that instant, killed the agent silently.
      process.on("SIGINT", force);
      process.on("SIGTERM", force);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // Only now, with ours installed, the start-up listeners go (no instant of default action).
    const early = starting;
    if (early !== null) {
      process.off("SIGINT", early.onStop);
      process.off("SIGTERM", early.onStop);
      const stop = early.stop;
      early.stop = null;
      if (stop !== null) onSignal(stop);
    }
  });
}

/** Calls `handler` on every SIGHUP (reload the configuration) until the returned function is called. */
export function onHangup(handler: () => void): () => void {
  process.on("SIGHUP", handler);
  const early = starting;
  if (early !== null) {
    process.off("SIGHUP", early.onHangup);
    if (early.hangup) queueMicrotask(handler);
    early.hangup = false;
  }
  return () => process.off("SIGHUP", handler);
}
