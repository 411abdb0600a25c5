/** A repeat of the stopping signal sooner than this is the same request (Ctrl-C reaches a process twice under npm). */
const SAME_REQUEST_MS = 1_000;

/**
 * Resolves on the first SIGINT or SIGTERM; another one while shutting down exits at once, so a
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
  });
}

/** Calls `handler` on every SIGHUP (reload the configuration) until the returned function is called. */
export function onHangup(handler: () => void): () => void {
  process.on("SIGHUP", handler);
  return () => process.off("SIGHUP", handler);
}
