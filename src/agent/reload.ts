import { ConfigError, formatProblem } from "../config/index.js";
import type { AgentSettings, SloConfig } from "../model/config.js";
import { structurallyEqual } from "../model/equal.js";

/** What a reload did, for the log line and the answer to POST /-/reload. */
export type ReloadOutcome =
  | {
      readonly ok: true;
      readonly kept: readonly string[];
      readonly added: readonly string[];
      readonly changed: readonly string[];
      readonly removed: readonly string[];
      /** Whether the rolling windows were recomputed from the evidence (maintenance, targets changed). */
      readonly windowsRecomputed: boolean;
      /** agent.* keys that changed but take effect only at the next start. */
      readonly needRestart: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

const RESTART_ONLY: readonly (readonly [keyof AgentSettings, string])[] = [
  ["listen", "agent.listen"],
  ["dataDir", "agent.data_dir"],
  ["region", "agent.region"],
  ["id", "agent.id"],
  ["retentionDays", "agent.retention_days"],
  ["minuteRollupDays", "agent.minute_rollup_days"],
  ["otlp", "agent.otlp"],
  ["maxStallMs", "agent.max_stall_ms"],
  ["niceOtherThreads", "agent.nice_other_threads"],
  ["adminListen", "agent.admin_listen"],
  ["allowedHosts", "agent.allowed_hosts"],
];

/**
 * The agent settings a running agent keeps: where it listens, its store, its region label and
 * its OTLP push are fixed for its lifetime. Returns the settings to run with and what was kept.
 */
export function settleAgentSettings(
  running: AgentSettings,
  next: AgentSettings,
): { agent: AgentSettings; needRestart: string[] } {
  const needRestart = RESTART_ONLY.filter(([key]) => !structurallyEqual(running[key], next[key])).map(
    ([, name]) => name,
  );
  return { agent: { ...running, adminToken: next.adminToken, apiToken: next.apiToken }, needRestart };
}

/** Whether results would be classified differently (targets, maintenance, exclusions, categories). */
export function classificationChanged(before: SloConfig, after: SloConfig): boolean {
  return (
    !structurallyEqual(before.categories, after.categories) ||
    !structurallyEqual(before.serviceClasses, after.serviceClasses) ||
    !structurallyEqual(before.maintenance, after.maintenance) ||
    !structurallyEqual(before.exclusions, after.exclusions)
  );
}

/** The lines to log for a configuration that could not be loaded (never a stack trace). */
export function problemLines(error: unknown): string[] {
  if (error instanceof ConfigError) return error.problems.map(formatProblem);
  return [error instanceof Error ? error.message.split("\n")[0]! : String(error)];
}
