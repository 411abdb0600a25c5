#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { ConfigError, formatProblem } from "../config/problems.js";
import { AGENT_VERSION } from "../version.js";
import { CheckFailed, EXIT_CHECK_FAILED, EXIT_USAGE, UsageError } from "./errors.js";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when needed: loading all of them (OpenTelemetry, the report
 * renderers, the simulator, alerting) cost about a CPU second per invocation, `--help` included.
 * In the order `--help` lists them.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  run: async () => (await import("./commands/run.js")).registerRun,
  demo: async () => (await import("./commands/demo.js")).registerDemo,
  "check-config": async () => (await import("./commands/check-config.js")).registerCheckConfig,
  import: async () => (await import("./commands/import.js")).registerImport,
  report: async () => (await import("./commands/report.js")).registerReport,
  verify: async () => (await import("./commands/verify.js")).registerVerify,
  evidence: async () => (await import("./commands/evidence.js")).registerEvidence,
  rules: async () => (await import("./commands/rules.js")).registerRules,
  dashboards: async () => (await import("./commands/dashboards.js")).registerDashboards,
};

/** The command argv names, when it names one; otherwise every command is registered (help, typos). */
function commandsFor(argv: readonly string[]): string[] {
  const first = argv.find((arg) => !arg.startsWith("-"));
  if (first === undefined && (argv.includes("-V") || argv.includes("--version"))) return [];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
}

async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command("slo-agent")
    .description(
      "Service-level monitoring and synthetic probing for an API provider's published SLA (Klarna profile included).",
    )
    .version(AGENT_VERSION, "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  const names = commandsFor(argv);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (or the help text).
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    for (const p of error.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    for (const line of error.lines) process.stderr.write(`${line}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof CheckFailed) {
    process.stderr.write(`${error.message}\n`);
    return EXIT_CHECK_FAILED;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`slo-agent: ${message.split("\n")[0]}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT_USAGE;
}

export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    await (await buildProgram(argv)).parseAsync([...argv], { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (debug && !(error instanceof CommanderError) && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    return reportError(error, false);
  }
}

// A reader that goes away (`slo-agent rules | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
