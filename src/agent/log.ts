import type { Clock } from "../clock/clock.js";
import { isoUtc } from "../model/time.js";

export type LogLevel = "info" | "warn" | "error";

/** One line per event on stderr: `2026-10-01T00:00:00.000Z warn message`. Never given secrets. */
export type Logger = (level: LogLevel, message: string) => void;

export function streamLogger(clock: Clock, stream: NodeJS.WritableStream = process.stderr): Logger {
  return (level, message) => {
    stream.write(`${isoUtc(clock.now())} ${level} ${message}\n`);
  };
}
