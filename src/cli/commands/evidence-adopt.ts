import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { Clock } from "../../clock/clock.js";
import { EVIDENCE_FILE, openEvidenceStore } from "../../record/index.js";
import { loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

const EXAMPLES = `
The agent and import sign a store only when it extends the newest checkpoint they can check
(docs/evidence-store.md, "A store that cannot be signed"). When you know the store is yours as it
is (restored from your own copy, written by an older version, the key rotated or lost, records
left unsigned after the newest checkpoint), adopt it: its chain and input chain must verify and
extend the newest checkpoint left in the store (never one that checkpoint shows rewritten or cut).
An "adoption" input record then names what was overridden and the newest checkpoint before it;
every later report (evidence.adoptions, a warning) and bundle shows it. A missing key is created:
publish its key id.

Example:
  $ slo-agent evidence adopt --data-dir /var/lib/slo-agent
  adopted: the store holds records seq 1..42600 but no signed checkpoint: ...
  signed by key 59ca6f1d1d1465d1 (publish it: verify --bundle DIR --key-id 59ca6f1d1d1465d1)

Exit codes: 0 adopted (or nothing to adopt), 1 the chain does not verify or does not extend the
newest checkpoint (nothing signed),
2 bad usage or no evidence store.`;

/** `slo-agent evidence adopt`: the operator's explicit signature over a store the writers refuse to sign. */
export function registerAdopt(evidence: Command, clock: Clock): void {
  withCommonOptions(evidence.command("adopt"))
    .description(
      "sign a store that the agent refuses to sign, after checking its chain (see docs/evidence-store.md)",
    )
    .addHelpText("after", EXAMPLES)
    .action((opts: CommonOptions) => runAdopt(opts, clock));
}

async function runAdopt(opts: CommonOptions, clock: Clock): Promise<void> {
  const command = "slo-agent evidence adopt";
  const { config, dataDir } = await loadCommandContext(opts, process.stderr, "offline");
  if (!existsSync(join(dataDir, EVIDENCE_FILE)))
    throw new UsageError(`${command}: no evidence store at ${dataDir} (${EVIDENCE_FILE} not found)`);
  const store = openEvidenceStore({
    dataDir,
    clock,
    signingKeyFile: config.agent.signingKeyFile,
    logger: () => {},
  });
  try {
    const { overridden, keyId } = store.adopt();
    process.stdout.write(
      overridden === null
        ? "nothing to adopt: the store extends its newest checkpoint\n"
        : `adopted: ${overridden}\n`,
    );
    process.stdout.write(`signed by key ${keyId} (publish it: verify --bundle DIR --key-id ${keyId})\n`);
  } catch (error) {
    throw new CheckFailed(`${command}: ${(error as Error).message}`);
  } finally {
    store.close();
  }
}
