import type { SloConfig } from "../model/config.js";
import { SLO_WINDOWS } from "../model/snapshot.js";
import { allowedFailureRatio, BURN_RATE_WINDOWS } from "../slo/index.js";
import { LABEL, METRIC, RECORDED, type RuleLevel } from "./names.js";
import { durationMs, type RecordingRule, type RuleGroup } from "./rule-types.js";

/**
 * The windows recorded: the contract's rolling windows and the burn-rate windows, shortest first.
 * "month" is a calendar month, which PromQL cannot express: the gauges carry it instead.
 */
export const RULE_WINDOWS: readonly string[] = [
  ...new Set([...SLO_WINDOWS.filter((w) => w !== "month"), ...BURN_RATE_WINDOWS.map((w) => w.window)]),
].sort((a, b) => durationMs(a) - durationMs(b));

// Summing by region drops the `agent` label: R and SR of every agent in a region add up before any
// ratio is taken (a ratio of sums, never a mean of the agents' ratios).
const BY_CATEGORY = `${LABEL.region}, ${LABEL.category}, ${LABEL.serviceClass}`;
const BY_CLASS = `${LABEL.region}, ${LABEL.serviceClass}`;
// Excluded requests (maintenance, declared exclusions) carry outcome="excluded" and stay out of R.
const COUNTED = `${LABEL.outcome}=~"served|failed"`;
const FAILED = `${LABEL.outcome}="failed"`;

/** Objectives from the configuration as constant series, so burn rates need no hand-typed numbers. */
export function objectiveGroup(config: SloConfig): RuleGroup {
  const rules: RecordingRule[] = [];
  for (const category of [...config.categories.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const target = config.serviceClasses.get(category.serviceClass)?.availabilityTarget;
    if (target === undefined) continue;
    const labels = { [LABEL.category]: category.id, [LABEL.serviceClass]: category.serviceClass };
    rules.push(...objectiveRules("category", target, labels));
  }
  for (const cls of [...config.serviceClasses.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    rules.push(...objectiveRules("service_class", cls.availabilityTarget, { [LABEL.serviceClass]: cls.id }));
  }
  return { name: "slo-agent-objectives", rules };
}

function objectiveRules(level: RuleLevel, target: number, labels: Record<string, string>): RecordingRule[] {
  const rules: RecordingRule[] = [{ record: RECORDED.target(level), expr: `vector(${target})`, labels }];
  const budget = allowedFailureRatio(target);
  // A 100% target has no budget to burn: no budget series, hence no burn rate (as in src/slo).
  if (budget > 0) rules.push({ record: RECORDED.errorBudget(level), expr: `vector(${budget})`, labels });
  return rules;
}

/** The window recorded rates are averaged from instead of rating raw counters over days. */
const BASE_WINDOW = "5m";
/** Windows longer than this are averages of the recorded 5m rates. */
const LONGEST_RAW_RATE_MS = 86_400_000;

/** One group per window: category rules first, then the service classes pooled from them. */
export function windowGroup(window: string): RuleGroup {
  // rate() over raw counters for days reads millions of samples at every evaluation; the mean of
  // the recorded 5m rates over the window is the same rate (for evenly spaced evaluations) at a
  // fraction of the cost, and it survives a counter reset or an agent restart the same way.
  const long = durationMs(window) > LONGEST_RAW_RATE_MS;
  const counted = long
    ? `avg_over_time(${RECORDED.requests("category", BASE_WINDOW)}[${window}])`
    : `rate(${METRIC.probeRequests}{${COUNTED}}[${window}])`;
  const failed = long
    ? `avg_over_time(${RECORDED.failed("category", BASE_WINDOW)}[${window}])`
    : `rate(${METRIC.probeRequests}{${FAILED}}[${window}])`;
  return {
    name: `slo-agent-sli-${window}`,
    rules: [
      { record: RECORDED.requests("category", window), expr: `sum by (${BY_CATEGORY}) (${counted})` },
      {
        record: RECORDED.failed("category", window),
        // A category that never failed has no failed series: count it as 0, not as missing.
        expr: `sum by (${BY_CATEGORY}) (${failed}) or 0 * sum by (${BY_CATEGORY}) (${counted})`,
      },
      ...ratioRules("category", window, `${LABEL.category}, ${LABEL.serviceClass}`),
      {
        record: RECORDED.requests("service_class", window),
        expr: `sum by (${BY_CLASS}) (${RECORDED.requests("category", window)})`,
      },
      {
        record: RECORDED.failed("service_class", window),
        expr: `sum by (${BY_CLASS}) (${RECORDED.failed("category", window)})`,
      },
      ...ratioRules("service_class", window, LABEL.serviceClass),
    ],
  };
}

function ratioRules(level: RuleLevel, window: string, objectiveJoin: string): RecordingRule[] {
  const error = RECORDED.errorRatio(level, window);
  return [
    {
      record: error,
      // R = 0 is "no traffic": no series, never a made-up 100%.
      expr: `${RECORDED.failed(level, window)} / (${RECORDED.requests(level, window)} > 0)`,
    },
    { record: RECORDED.availability(level, window), expr: `1 - ${error}` },
    {
      record: RECORDED.burnRate(level, window),
      expr: `${error} / on (${objectiveJoin}) group_left () ${RECORDED.errorBudget(level)}`,
    },
  ];
}
