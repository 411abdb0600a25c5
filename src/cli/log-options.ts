import { type Command, Option } from "commander";
import {
  createLogger,
  defaultLogFormat,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
} from "../agent/log.js";
import { systemClock } from "../clock/system.js";
import { linesToLog, stderrJsonLogger, stdoutJsonLogger } from "./json-lines.js";

export interface LogCliOptions {
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/** --log-format and --log-level, for the commands that run the daemon. */
export function withLogOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--log-format <format>",
        "json: one object a line; pretty: for people (default: pretty on a terminal, else json)",
      ).choices(LOG_FORMATS),
    )
    .addOption(
      new Option("--log-level <level>", "least severe events logged").choices(LOG_LEVELS).default("info"),
    );
}

export function loggerFrom(opts: LogCliOptions): Logger {
  return createLogger({
    clock: systemClock,
    format: opts.logFormat ?? defaultLogFormat(),
    level: opts.logLevel ?? "info",
  });
}

/** Only an explicit `--log-format json` turns the stdout lines into records (scripts wait for the text). */
function jsonLines(opts: LogCliOptions): boolean {
  return opts.logFormat === "json";
}

/**
 * Says where the agent serves, on stdout: "listening on URL" lines, or with --log-format json one
 * log record each whose msg is the same text (a reader waiting for the text still finds it).
 */
export function announce(opts: LogCliOptions, lines: readonly { msg: string; url: string }[]): void {
  if (!jsonLines(opts)) {
    process.stdout.write(lines.map((l) => `${l.msg}\n`).join(""));
    return;
  }
  const log = stdoutJsonLogger();
  for (const line of lines) log("info", line.msg, { url: line.url });
}

/** Where start-up warnings go: stderr as text, or with --log-format json one warn record a line. */
export function warningStream(opts: LogCliOptions): NodeJS.WritableStream {
  return jsonLines(opts) ? linesToLog(stderrJsonLogger(), "warn") : process.stderr;
}
