import type { Command } from "commander";
import { startDaemon } from "../../agent/daemon.js";
import { streamLogger } from "../../agent/log.js";
import { systemClock } from "../../clock/system.js";
import { loadCommandContext } from "../context.js";
import { untilSignalled } from "../lifecycle.js";
import { listenOption } from "../listen.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

const HELP = `
Runs the agent in the foreground until SIGINT or SIGTERM: every probe of the configuration on its
schedule, each result written to the evidence store in --data-dir, and the SLO figures exported on
http://LISTEN/metrics (with /healthz and /readyz). A restart replays the stored results, so the
rolling windows continue where they stopped; the time the agent was down is recorded as
unmonitored, never as the provider's unavailability.

Examples:
  $ slo-agent run
  $ slo-agent run --config /etc/slo-agent/slo.yaml --data-dir /var/lib/slo-agent --listen 0.0.0.0:9464
`;

interface RunOptions extends CommonOptions {
  listen?: string;
}

export function registerRun(program: Command): void {
  withCommonOptions(program.command("run"))
    .description("run the agent: schedule probes, record evidence, export /metrics")
    .option("-l, --listen <host:port>", "where /metrics, /healthz and /readyz listen (default: agent.listen)")
    .addHelpText("after", HELP)
    .action(async (opts: RunOptions) => {
      const { config, dataDir } = await loadCommandContext(opts);
      const listen = opts.listen === undefined ? config.agent.listen : listenOption(opts.listen);
      const log = streamLogger(systemClock);
      const daemon = await startDaemon({ config, dataDir, listen, clock: systemClock, log });
      process.stdout.write(`listening on ${daemon.url}\n`);
      const signal = await untilSignalled();
      log("info", `${signal}: stopping`);
      await daemon.close();
    });
}
