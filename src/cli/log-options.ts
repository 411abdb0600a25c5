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
