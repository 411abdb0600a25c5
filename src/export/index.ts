export { type AdminVerdict, authorizeAdmin } from "./admin-auth.js";
export type { AlertFigures } from "./alert-metrics.js";
export { ALERT } from "./alerting-rules.js";
export { DASHBOARD_FILES, dashboardExpressions, renderDashboard } from "./dashboards.js";
export { createSloMetrics, type SloMetrics, type SloMetricsOptions } from "./metrics.js";
export { exposedSeriesNames, HISTOGRAMS, LABEL, METRIC, OUTCOMES, PHASES, RECORDED } from "./names.js";
export type { OtlpPushOptions } from "./otlp.js";
export { RULE_WINDOWS } from "./recording-rules.js";
export type { RuleFile } from "./rule-types.js";
export { generateRules, renderRules } from "./rules.js";
export type { AgentSelfFigures } from "./self-metrics.js";
export {
  type MetricsServer,
  type MetricsServerOptions,
  type Route,
  reply,
  startMetricsServer,
} from "./server.js";
export { type FiringAlert, renderIndexPage, renderStatusPage, type StatusPageModel } from "./status-page.js";
