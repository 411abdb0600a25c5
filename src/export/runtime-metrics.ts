import type { Meter, MeterProvider } from "@opentelemetry/api";
import { HostMetrics } from "@opentelemetry/host-metrics";
import { RuntimeNodeInstrumentation } from "@opentelemetry/instrumentation-runtime-node";
import { type AgentIdentity, identityLabels, METRIC } from "./names.js";

/** What `slo_agent_build_info` says about the running agent. */
export interface BuildInfo {
  readonly version: string;
  readonly identity: AgentIdentity;
}

/** `slo_agent_build_info{version,node_version,region,agent,...} 1`, the usual join target for dashboards. */
export function registerBuildInfo(meter: Meter, info: BuildInfo): void {
  const gauge = meter.createObservableGauge(METRIC.buildInfo, {
    description: "Always 1; the labels say which agent build and Node.js runtime are running",
  });
  const labels = {
    ...identityLabels(info.identity),
    version: info.version,
    node_version: process.versions.node,
    platform: process.platform,
    arch: process.arch,
  };
  gauge.addCallback((result) => result.observe(1, labels));
}

/**
 * How often the event-loop delay is sampled. OpenTelemetry's default (10 ms) wakes the loop 100
 * times a second, which cost ~4 ms of CPU per second here: four times the agent's whole idle budget.
 * Twice a second keeps the histogram's meaning (how late a due timer ran); busy time is still
 * measured exactly by the utilisation metric, and every probe's start by the schedule lateness.
 * The collector reports once it holds 5 samples: scrapes 2.5 s apart or more see the series.
 */
export const EVENT_LOOP_DELAY_SAMPLE_MS = 500;

/**
 * The process and Node.js runtime metrics of the OpenTelemetry packages (event-loop delay and
 * utilisation, GC, V8 heap; process CPU and memory), on the agent's own MeterProvider. Host-wide
 * system.* groups are left out: a sidecar reports its own process, the node exporter the host.
 */
export function startRuntimeMetrics(provider: MeterProvider): { stop(): void } {
  const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: EVENT_LOOP_DELAY_SAMPLE_MS });
  runtime.setMeterProvider(provider);
  runtime.enable();
  new HostMetrics({
    meterProvider: provider,
    name: "slo-agent-process",
    metricGroups: ["process.cpu", "process.memory"],
  }).start();
  return { stop: () => runtime.disable() };
}
