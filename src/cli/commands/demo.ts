import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { SHIPPED_PROFILE, startDemo } from "../../agent/demo.js";
import { systemClock } from "../../clock/system.js";
import { formatWarning } from "../../config/index.js";
import { parseDuration } from "../../config/values.js";
import { loadScenario, shippedScenario } from "../../sim/index.js";
import { loadCommandContext } from "../context.js";
import { UsageError } from "../errors.js";
import { onHangup, untilSignalled } from "../lifecycle.js";
import { listenOption } from "../listen.js";
import { announce, type LogCliOptions, loggerFrom, warningStream, withLogOptions } from "../log-options.js";
import type { CommonOptions } from "../options.js";
import { configReloader } from "../reload-config.js";

const HELP = `
Starts a simulated Klarna API on a free loopback port and runs the agent against it with the
shipped Klarna profile (or --config), every target pointed at the simulator: real probes, a real
evidence store and real metrics on a machine with no credentials and no internet. The demo
scenario is mostly healthy with a few categories that misbehave now and then; script an outage
while it runs through the simulator's admin API (see docs/simulator.md):

  curl -X PATCH -H 'content-type: application/json' -d '{"error_rate":1}' \\
       SIMULATOR/__sim/scenario/categories/payment_request

SIGHUP reloads --config (still pointed at the simulator); see slo-agent run --help and
docs/operations.md for reloads, logs and the one-agent-per-data-dir lock.

It prints "listening on URL" (metrics) and "simulator on URL" and runs until SIGINT or SIGTERM
(with --log-format json, as log records on stdout whose msg is that text).

Examples:
  $ slo-agent demo
  $ slo-agent demo --listen 127.0.0.1:0 --every 1s --data-dir /tmp/slo-demo

Exit codes: 0 stopped cleanly on SIGINT or SIGTERM, 2 bad usage, bad configuration or scenario,
or a --listen address that cannot be bound.
`;

interface DemoCliOptions extends CommonOptions, LogCliOptions {
  listen: string;
  every?: string;
  scenario?: string;
}

export function registerDemo(program: Command): void {
  withLogOptions(program.command("demo"))
    .description("run the agent against an embedded simulated Klarna API (no credentials needed)")
    .option("-c, --config <file>", "configuration file", SHIPPED_PROFILE)
    .option("-d, --data-dir <dir>", "evidence store directory (default: the config's agent.data_dir)")
    .option(
      "-l, --listen <host:port>",
      "where /metrics, /healthz and /readyz listen; port 0 picks one",
      "127.0.0.1:9464",
    )
    .option("--every <duration>", "probe every category this often instead of its schedule (e.g. 1s, 10s)")
    .option("--scenario <file>", "simulator scenario YAML (default: the shipped demo scenario)")
    .option("--debug", "print stack traces on errors")
    .addHelpText("after", HELP)
    .action(async (opts: DemoCliOptions) => {
      // The demo replaces every target's credentials, so warnings about them would only mislead.
      const { config, dataDir, warnings } = await loadCommandContext(opts, new PassThrough());
      const warn = warningStream(opts);
      for (const warning of warnings) {
        if (!/^targets\.[^.]+\.auth\./.test(warning.path)) warn.write(`${formatWarning(warning)}\n`);
      }
      const listen = listenOption(opts.listen);
      const everyMs = opts.every === undefined ? null : parseEvery(opts.every);
      const scenario = opts.scenario === undefined ? shippedScenario("demo") : loadScenario(opts.scenario);
      const log = loggerFrom(opts);
      const reloadConfig = configReloader(opts.config ?? SHIPPED_PROFILE, log);
      const demo = await startDemo({
        ...{ config, dataDir, listen, scenario, everyMs, clock: systemClock, log },
        reloadConfig,
      });
      const stopHangup = onHangup(() => void demo.daemon.reload("SIGHUP"));
      // Handlers first: whoever reads "listening on" may signal at once (a supervisor, a test).
      const signalled = untilSignalled();
      announce(opts, [
        { msg: `listening on ${demo.daemon.url}`, url: demo.daemon.url },
        { msg: `simulator on ${demo.simulator.url}`, url: demo.simulator.url },
      ]);
      const signal = await signalled;
      stopHangup();
      log("info", "stopping", { signal });
      await demo.close();
    });
}

function parseEvery(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms < 100)
    throw new UsageError(`--every: expected a duration of at least 100ms (e.g. 1s, 30s), got "${text}"`);
  return ms;
}
