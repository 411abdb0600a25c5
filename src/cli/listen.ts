import { parseListen } from "../config/values.js";
import { UsageError } from "./errors.js";

/** `--listen HOST:PORT` (port 0 picks a free one). */
export function listenOption(text: string): { host: string; port: number } {
  const listen = parseListen(text);
  if (!listen)
    throw new UsageError(`--listen: expected HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:0), got "${text}"`);
  return listen;
}
