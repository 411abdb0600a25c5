import pino from "pino";
import pretty from "pino-pretty";
import type { Clock } from "../clock/clock.js";
import type { SecretScrubber } from "../model/secret.js";
import { isoUtc } from "../model/time.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Facts of an event, as fields (`{category: "payment_request", reason: "timeout"}`), not prose. */
export type LogFields = Readonly<Record<string, unknown>>;

/** One event. Never given secrets (Secrets print as "[redacted]"; known secret paths are redacted too). */
export type Logger = (level: LogLevel, message: string, fields?: LogFields) => void;

export interface LoggerOptions {
  readonly clock: Clock;
  /** json: one object a line (`level`, `time`, `msg` and the fields); pretty: for a terminal. */
  readonly format: LogFormat;
  /** Events below this level are dropped. Default info. */
  readonly level?: LogLevel;
  /** Default stderr (file descriptor 2, written synchronously so nothing is lost at exit). */
  readonly stream?: NodeJS.WritableStream;
  /** With no stream: stdout (file descriptor 1) instead, for the records a script waits for there. */
  readonly stdout?: boolean;
}

/** Field paths that may hold a credential, whatever type the value has. */
export const REDACTED_PATHS = [
  "password",
  "token",
  "secret",
  "authorization",
  "apiKey",
  "api_key",
  "headers.authorization",
  "headers.Authorization",
  "headers.cookie",
  "*.password",
  "*.token",
  "*.secret",
  "*.authorization",
  "*.admin_token",
  "*.adminToken",
  "*.api_token",
  "*.apiToken",
];

/**
 * `log` with every secret of the agent (SecretScrubber) taken out of the message and of every
 * string among the fields, however deep: a log line may quote what a server answered, and a
 * server may echo any probe's credential. `secrets` is read per line, so a reload takes effect.
 */
export function scrubbingLogger(log: Logger, secrets: () => SecretScrubber): Logger {
  return (level, message, fields) => {
    const scrubber = secrets();
    const clean = (value: unknown, depth: number): unknown => {
      if (typeof value === "string") return scrubber.scrub(value);
      if (value === null || typeof value !== "object" || depth > 8) return value;
      if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
      if (Object.getPrototypeOf(value) !== Object.prototype) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v, depth + 1)]));
    };
    const scrubbed = scrubber.scrub(message);
    if (fields === undefined) log(level, scrubbed);
    else log(level, scrubbed, clean(fields, 0) as LogFields);
  };
}

/** The agent's logger: pino, with ISO times from the injected clock and textual levels. */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.stdout === true ? 1 : 2;
  const destination =
    options.format === "pretty"
      ? pretty({
          destination: options.stream ?? fd,
          sync: true,
          colorize: options.stream === undefined && process.stderr.isTTY === true,
          translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
          ignore: "pid,hostname",
        })
      : (options.stream ?? pino.destination({ dest: fd, sync: true }));
  const logger = pino(
    {
      level: options.level ?? "info",
      base: { pid: process.pid },
      messageKey: "msg",
      timestamp: () => `,"time":"${isoUtc(options.clock.now())}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    destination,
  );
  return (level, message, fields) => {
    if (fields === undefined) logger[level](message);
    else logger[level]({ ...fields }, message);
  };
}

/** JSON lines on `stream` (stderr by default); kept for callers that only have a clock. */
export function streamLogger(clock: Clock, stream?: NodeJS.WritableStream): Logger {
  return createLogger({ clock, format: "json", ...(stream ? { stream } : {}) });
}

/** The format when none is asked for: pretty for a person at a terminal, JSON for a collector. */
export function defaultLogFormat(stderr: { isTTY?: boolean } = process.stderr): LogFormat {
  return stderr.isTTY === true ? "pretty" : "json";
}
