#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2
// The bin sizes V8's young generation for a daemon: semi-spaces of at most 2 MB instead of 16
// (issue 30: ~35 MB less resident at 100 probes/s, CPU per probe within the noise; 1 MB cost
// 5-15% more CPU). And it gives glibc's malloc two arenas instead of one per thread that
// allocates (the agent runs a dozen: two isolates, libuv's pool, V8's helpers): 4-9 MB less
// resident at 13 and at 1,000 probes (issue 30, bench/bounds.md). `npx slo-agent` and an
// installed bin run this line; `node dist/cli/main.js` does not (the container's entry point
// passes --optimize-for-size and its image sets MALLOC_ARENA_MAX instead).
import { Command, CommanderError } from "commander";
import { ConfigError, formatProblem } from "../config/problems.js";
import { RollupsDisagreeError } from "../record/runs-error.js";
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

const TOP_LEVEL_HELP = `
Every command prints its options, examples and exit codes with --help (slo-agent report --help).
Exit codes: 0 success, 1 a check failed (evidence that does not verify, a missed objective with
--fail-on-miss), 2 bad usage, bad configuration or bad input, one line per problem on stderr.
Documentation: README.md, and docs/ in the source repository.`;

/** The command argv names, when it names one; otherwise every command is registered (help, typos). */
function commandsFor(argv: readonly string[]): string[] {
  const first = argv.find((arg) => !arg.startsWith("-"));
  if (first === undefined && (argv.includes("-V") || argv.includes("--version"))) return [];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
}

/** Where the CLI's own error lines go: stderr as text, or one JSON log record a line. */
type ErrorLines = (line: string) => void;

const textLines: ErrorLines = (line) => {
  process.stderr.write(`${line}\n`);
};

async function buildProgram(argv: readonly string[], errorLines: ErrorLines | null): Promise<Command> {
  const program = new Command("slo-agent")
    .description(
      "Service-level monitoring and synthetic probing for an API provider's published SLA (Klarna profile included).",
    )
    .version(AGENT_VERSION, "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", TOP_LEVEL_HELP)
    .exitOverride();
  if (errorLines) {
    // Commander's own messages (unknown option, missing argument) as log records too.
    const asRecords = (text: string) => {
      for (const line of text.split("\n")) if (line.trim() !== "") errorLines(line);
    };
    program.configureOutput({ writeErr: asRecords, outputError: asRecords });
  }
  const names = commandsFor(argv);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

function reportError(error: unknown, debug: boolean, write: ErrorLines): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (or the help text).
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    for (const p of error.problems) write(formatProblem(p));
    return EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    for (const line of error.lines) write(line);
    return EXIT_USAGE;
  }
  if (error instanceof CheckFailed) {
    write(error.message);
    return EXIT_CHECK_FAILED;
  }
  // Altered evidence found while a figure was worked out (`evidence export` as well as `report`).
  if (error instanceof RollupsDisagreeError) {
    write(`slo-agent: ${error.message}`);
    return EXIT_CHECK_FAILED;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`slo-agent: ${message.split("\n")[0]}`);
  if (debug && error instanceof Error && error.stack) write(error.stack);
  return EXIT_USAGE;
}

export async function main(argv: readonly string[]): Promise<number> {
  // The agent's commands hold SIGINT, SIGTERM and SIGHUP from their first instant (lifecycle.ts).
  const names = commandsFor(argv);
  if (names.length === 1 && (names[0] === "run" || names[0] === "demo"))
    (await import("./lifecycle.js")).catchSignalsWhileStarting();
  const debug = argv.includes("--debug");
  // pino is loaded only when asked for: the commands that do not log stay light at start-up.
  const jsonLines = jsonLogsRequested(argv) ? (await import("./json-lines.js")).stderrJsonLogger() : null;
  const errorLines: ErrorLines | null = jsonLines ? (line) => jsonLines("error", line) : null;
  const write = errorLines ?? textLines;
  try {
    await (await buildProgram(argv, errorLines)).parseAsync([...argv], { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (debug && !(error instanceof CommanderError) && error instanceof Error && error.stack) {
      write(error.stack);
    }
    return reportError(error, false, write);
  }
}

/** `--log-format json` on the command line (see json-lines.ts); kept here so pino loads only then. */
function jsonLogsRequested(argv: readonly string[]): boolean {
  const at = argv.indexOf("--log-format");
  return (at !== -1 && argv[at + 1] === "json") || argv.includes("--log-format=json");
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
