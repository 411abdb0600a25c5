#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { ConfigError, formatProblem } from "../config/problems.js";
import { AGENT_VERSION } from "../version.js";
import { registerCheckConfig } from "./commands/check-config.js";
import { registerDashboards } from "./commands/dashboards.js";
import { registerDemo } from "./commands/demo.js";
import { registerEvidence } from "./commands/evidence.js";
import { registerImport } from "./commands/import.js";
import { registerReport } from "./commands/report.js";
import { registerRules } from "./commands/rules.js";
import { registerRun } from "./commands/run.js";
import { registerVerify } from "./commands/verify.js";
import { CheckFailed, EXIT_CHECK_FAILED, EXIT_USAGE, UsageError } from "./errors.js";

function buildProgram(): Command {
  const program = new Command("slo-agent")
    .description(
      "Service-level monitoring and synthetic probing for an API provider's published SLA (Klarna profile included).",
    )
    .version(AGENT_VERSION, "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  for (const register of [
    registerRun,
    registerDemo,
    registerCheckConfig,
    registerImport,
    registerReport,
    registerVerify,
    registerEvidence,
    registerRules,
    registerDashboards,
  ]) {
    register(program);
  }
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
    await buildProgram().parseAsync([...argv], { from: "user" });
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
