export { createSloMetrics, type SloMetrics, type SloMetricsOptions } from "./metrics.js";
export { exposedSeriesNames, HISTOGRAMS, LABEL, METRIC, OUTCOMES, PHASES } from "./names.js";
export type { OtlpPushOptions } from "./otlp.js";
export type { AgentSelfFigures } from "./self-metrics.js";
export { type MetricsServer, type MetricsServerOptions, startMetricsServer } from "./server.js";
