import { existsSync } from "node:fs";
import { join, normalize } from "node:path";
import type { Command } from "commander";
import { systemClock } from "../../clock/system.js";
import type { SloConfig } from "../../model/config.js";
import { EVIDENCE_FILE, openEvidenceStore } from "../../record/index.js";
import { sharedIdWarning, sharedWindowIds } from "../../slo/index.js";
import { DEFAULT_CONFIG_FILE, loadCommandContext } from "../context.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

const HELP = `
Reads slo.yaml and every probe file it names, expands \${NAME} references from the environment,
reads *_file secrets and checks every reference (probe -> category and target, category ->
service class, windows and exclusions -> categories). Nothing is probed or written. With an
evidence store in data_dir it also warns of a declared maintenance window whose id a window of the
maintenance feed has (both stand, the feed's counted as feed:<id>).

On success it prints one line to stdout and exits 0; warnings (an empty username, a category no
probe measures) go to stderr. On failure it prints every problem to stderr, one per line, as
FILE:LINE:COL: field.path: message, and exits 2. Secret values are never printed.

Examples:
  $ slo-agent check-config
  slo.yaml: ok: 13 categories, 3 service classes, 14 probes, 7 targets
  $ slo-agent check-config --config /etc/slo-agent/slo.yaml

It checks what \`run\` needs, so a value only run uses (credentials, tokens, receivers' secrets)
that is unset is a problem here even though report, verify, evidence, rules and dashboards work
without it.

Exit codes: 0 the configuration is valid (warnings or not), 2 a problem was found.
`;

/** "13 categories, 3 service classes, 14 probes, 7 targets" */
export function configSummary(config: SloConfig): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    count(config.categories.size, "category", "categories"),
    count(config.serviceClasses.size, "service class", "service classes"),
    count(config.probes.length, "probe", "probes"),
    count(config.targets.size, "target", "targets"),
  ].join(", ");
}

/**
 * The declared windows' ids that a window of the maintenance feed also has, from the evidence
 * store in data_dir (read only; none without a store): both stand, separately (contract section 14).
 */
function sharedWithFeed(config: SloConfig, dataDir: string): string[] {
  if (!existsSync(join(dataDir, EVIDENCE_FILE))) return [];
  const store = openEvidenceStore({ dataDir, clock: systemClock, readOnly: true, logger: () => {} });
  try {
    return sharedWindowIds(config.maintenance.windows, store.feedWindows.all());
  } finally {
    store.close();
  }
}

export function registerCheckConfig(program: Command): void {
  withCommonOptions(program.command("check-config"))
    .description("validate the configuration and the probe files, reporting every problem at once")
    .addHelpText("after", HELP)
    .action(async (opts: CommonOptions) => {
      const { config, dataDir } = await loadCommandContext(opts);
      const shown = normalize(opts.config ?? DEFAULT_CONFIG_FILE);
      for (const id of sharedWithFeed(config, dataDir))
        process.stderr.write(`${shown}: maintenance.windows: warning: ${sharedIdWarning(id)}\n`);
      process.stdout.write(`${shown}: ok: ${configSummary(config)}\n`);
    });
}
