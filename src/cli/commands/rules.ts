import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { RULE_FORMATS, type RuleFormat, renderRulesAs } from "../../export/rules.js";
import { loadCommandContext } from "../context.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

const HELP = `
Prints Prometheus recording and alerting rules for the configured SLOs (YAML for rule_files:):
availability, error ratio and burn rate per category and per service class over 5m..30d, the
SRE workbook's multi-window multi-burn-rate alerts, latency-objective, monthly-breach,
maintenance-overrun and no-data alerts. Requests inside qualifying maintenance or a declared
exclusion (outcome="excluded") are left out. Regenerate after changing slo.yaml.

--format prometheus-operator writes the same groups as a PrometheusRule resource
(apiVersion monitoring.coreos.com/v1) for the Prometheus Operator; deploy/kubernetes ships one.

Examples:
  $ slo-agent rules > /etc/prometheus/rules/slo-agent.yml && promtool check rules /etc/prometheus/rules/slo-agent.yml
  $ slo-agent rules --config /etc/slo-agent/slo.yaml --out slo-agent.rules.yml
  $ slo-agent rules --format prometheus-operator | kubectl apply -f -

Exit codes: 0 written, 2 bad usage, bad configuration or an --out file that cannot be written.
`;

interface RulesOptions extends CommonOptions {
  out?: string;
  format: RuleFormat;
}

export function registerRules(program: Command): void {
  withCommonOptions(program.command("rules"))
    .description(
      "print Prometheus recording and alerting rules for the configured SLOs (a rule file or a PrometheusRule)",
    )
    .option("-o, --out <file>", "write the rules to this file instead of stdout")
    .addOption(
      new Option(
        "-f, --format <format>",
        "prometheus: a rule file for rule_files; prometheus-operator: a PrometheusRule resource",
      )
        .choices(RULE_FORMATS)
        .default("prometheus"),
    )
    .addHelpText("after", HELP)
    .action(async (opts: RulesOptions) => {
      const { config } = await loadCommandContext(opts, process.stderr, "offline");
      const rules = renderRulesAs(opts.format, config);
      if (opts.out === undefined) process.stdout.write(rules);
      else await writeFile(opts.out, rules);
    });
}
