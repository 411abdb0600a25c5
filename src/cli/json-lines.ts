import { Writable } from "node:stream";
import { createLogger, type Logger, type LogLevel } from "../agent/log.js";
import { systemClock } from "../clock/system.js";

/*
 * With `--log-format json` every line the process writes, on stdout and stderr, is one JSON
 * object (a container runtime merges both streams into one log a collector parses line by line):
 * start-up and usage errors (main.ts), configuration warnings, and the "listening on" records.
 */

/** A JSON-lines logger on stderr (the agent's own log format: level, time, pid, msg). */
export function stderrJsonLogger(): Logger {
  return createLogger({ clock: systemClock, format: "json" });
}

/** A JSON-lines logger on stdout, for the records a supervisor or a script waits for there. */
export function stdoutJsonLogger(): Logger {
  return createLogger({ clock: systemClock, format: "json", stdout: true });
}

/** Text written to it (one message a line) becomes one log record a line. */
export function linesToLog(log: Logger, level: LogLevel): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") log(level, line);
      done();
    },
  });
}
