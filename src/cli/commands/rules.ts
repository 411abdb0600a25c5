import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { renderRules } from "../../export/rules.js";
import { loadCommandContext } from "../context.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

const HELP = `
Prints Prometheus recording and alerting rules for the configured SLOs (YAML for rule_files:):
availability, error ratio and burn rate per category and per service class over 5m..30d, the
SRE workbook's multi-window multi-burn-rate alerts, latency-objective, monthly-breach,
maintenance-overrun and no-data alerts. Requests inside qualifying maintenance or a declared
exclusion (outcome="excluded") are left out. Regenerate after changing slo.yaml.

Examples:
  $ slo-agent rules > /etc/prometheus/rules/slo-agent.yml && promtool check rules /etc/prometheus/rules/slo-agent.yml
  $ slo-agent rules --config /etc/slo-agent/slo.yaml --out slo-agent.rules.yml
`;

interface RulesOptions extends CommonOptions {
  out?: string;
}

export function registerRules(program: Command): void {
  withCommonOptions(program.command("rules"))
    .description("print Prometheus recording and alerting rules for the configured SLOs")
    .option("-o, --out <file>", "write the rules to this file instead of stdout")
    .addHelpText("after", HELP)
    .action(async (opts: RulesOptions) => {
      const { config } = await loadCommandContext(opts, process.stderr, "offline");
      const rules = renderRules(config);
      if (opts.out === undefined) process.stdout.write(rules);
      else await writeFile(opts.out, rules);
    });
}
