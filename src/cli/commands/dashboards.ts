import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { DASHBOARD_FILES, renderDashboard } from "../../export/dashboards.js";
import { loadCommandContext } from "../context.js";
import { UsageError } from "../errors.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

const HELP = `
Writes the Grafana dashboards for the configured SLOs (slo-overview.json, slo-category.json)
into --out: availability against the configured targets (stat panels red below the strictest
target, amber while less than half the error budget is left), error budgets, burn rates and
latency. Import them in Grafana or provision them from the directory. Regenerate after changing
slo.yaml.

Examples:
  $ slo-agent dashboards --out dashboards/
  $ slo-agent dashboards --config /etc/slo-agent/slo.yaml --out /var/lib/grafana/dashboards/slo

Exit codes: 0 written, 2 bad usage, bad configuration or an --out directory that cannot be written.
`;

interface DashboardsOptions extends CommonOptions {
  out: string;
}

export function registerDashboards(program: Command): void {
  withCommonOptions(program.command("dashboards"))
    .description("write Grafana dashboards for the configured SLOs into a directory")
    .option("-o, --out <dir>", "directory to write the dashboards into (created if missing)", "dashboards")
    .addHelpText("after", HELP)
    .action(async (opts: DashboardsOptions) => {
      const { config } = await loadCommandContext(opts, process.stderr, "offline");
      try {
        await mkdir(opts.out, { recursive: true });
      } catch (error) {
        throw new UsageError(
          `--out: cannot create directory "${opts.out}": ${(error as NodeJS.ErrnoException).code ?? "error"}`,
        );
      }
      for (const [file, build] of Object.entries(DASHBOARD_FILES)) {
        await writeFile(join(opts.out, file), renderDashboard(build, config));
        process.stdout.write(`wrote ${join(opts.out, file)}\n`);
      }
    });
}
