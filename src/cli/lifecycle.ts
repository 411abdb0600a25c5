/**
 * Resolves on the first SIGINT or SIGTERM; a second one while shutting down exits at once, so a
 * stuck shutdown can always be interrupted.
 */
export function untilSignalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      const force = () => process.exit(130);
      process.once("SIGINT", force);
      process.once("SIGTERM", force);
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
