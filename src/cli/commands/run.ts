import type { Command } from "commander";
import { startDaemon } from "../../agent/daemon.js";
import { systemClock } from "../../clock/system.js";
import { DEFAULT_CONFIG_FILE, loadCommandContext } from "../context.js";
import { onHangup, untilSignalled } from "../lifecycle.js";
import { listenOption } from "../listen.js";
import { announce, type LogCliOptions, loggerFrom, warningStream, withLogOptions } from "../log-options.js";
import { type CommonOptions, withCommonOptions } from "../options.js";
import { configReloader } from "../reload-config.js";

const HELP = `
Runs the agent in the foreground until SIGINT or SIGTERM: every probe of the configuration on its
schedule, each result written to the evidence store in --data-dir, and the SLO figures exported on
http://LISTEN/metrics (with /healthz and /readyz). A restart replays the stored results, so the
rolling windows continue where they stopped; the time the agent was down is recorded as
unmonitored, never as the provider's unavailability.

One agent per data directory: a second one on the same --data-dir exits 2 naming the first's pid.
SIGHUP (or POST /-/reload with "Authorization: Bearer <agent.admin_token>") re-reads the
configuration: an invalid one is refused with its problems logged and the running one kept;
probes that did not change keep their schedule and figures. A SIGINT or SIGTERM while the agent
is still starting stops it cleanly once it is up; a SIGHUP then is one reload. Logs go to stderr: JSON lines
(level, time, msg and fields) unless stderr is a terminal. With --log-format json every line on
stdout and stderr is one JSON object, "listening on URL" and start-up errors included (the msg
keeps the text); see docs/operations.md.

Examples:
  $ slo-agent run
  $ slo-agent run --config /etc/slo-agent/slo.yaml --data-dir /var/lib/slo-agent --listen 0.0.0.0:9464
  $ slo-agent run --log-format json --log-level debug
  $ kill -HUP <pid>      # reload the configuration

It needs every value the configuration takes from the environment or a *_file (credentials,
tokens, receivers' secrets); report, verify, evidence, import, rules and dashboards do not.

Exit codes: 0 stopped cleanly on SIGINT or SIGTERM, 2 bad usage, bad configuration, a data
directory another agent holds, or a --listen address that cannot be bound.
`;

interface RunOptions extends CommonOptions, LogCliOptions {
  listen?: string;
}

export function registerRun(program: Command): void {
  withLogOptions(withCommonOptions(program.command("run")))
    .description("run the agent: schedule probes, record evidence, export /metrics")
    .option("-l, --listen <host:port>", "where /metrics, /healthz and /readyz listen (default: agent.listen)")
    .addHelpText("after", HELP)
    .action(async (opts: RunOptions) => {
      const { config, dataDir } = await loadCommandContext(opts, warningStream(opts));
      const listen = opts.listen === undefined ? config.agent.listen : listenOption(opts.listen);
      const log = loggerFrom(opts);
      const reloadConfig = configReloader(opts.config ?? DEFAULT_CONFIG_FILE, log);
      const daemon = await startDaemon({ config, dataDir, listen, clock: systemClock, log, reloadConfig });
      const stopHangup = onHangup(() => void daemon.reload("SIGHUP"));
      // Handlers first: whoever reads "listening on" may signal at once (a supervisor, a test).
      const signalled = untilSignalled();
      announce(opts, [
        { msg: `listening on ${daemon.url}`, url: daemon.url },
        ...(daemon.adminUrl === null ? [] : [{ msg: `admin on ${daemon.adminUrl}`, url: daemon.adminUrl }]),
      ]);
      const signal = await signalled;
      stopHangup();
      log("info", "stopping", { signal });
      await daemon.close();
    });
}
