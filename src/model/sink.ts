import type { ProbeResult } from "./result.js";

/**
 * Where probe outcomes go. The evidence store, the rolling windows and the metrics each
 * implement it; the daemon fans one result out to all of them.
 */
export interface ResultSink {
  record(result: ProbeResult): void;
}
