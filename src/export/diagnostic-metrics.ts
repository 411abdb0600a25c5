import type { Meter } from "@opentelemetry/api";
import type { CategoryId, ProbeId } from "../model/config.js";
import { isWithoutHttp, type ProbeResult } from "../model/result.js";
import { METRIC } from "./names.js";
import type { SeriesLabels } from "./probe-metrics.js";

/**
 * The gauges of the diagnostic kinds (tls, dns, tcp; contract section 18), from each probe's latest
 * result: slo_probe_success{probe} (1 when it found nothing wrong) and, for tls,
 * slo_tls_cert_expiry_seconds{probe} (seconds until the certificate's notAfter; negative once
 * expired). They are never SLA figures: these results are in no configured category.
 */
export function registerDiagnosticGauges(
  meter: Meter,
  labels: SeriesLabels,
): { record(result: ProbeResult): void } {
  // By probe: its value and the category it was measured in (@diagnostic, or @control for a control).
  const success = new Map<ProbeId, [number, CategoryId]>();
  const expiry = new Map<ProbeId, [number, CategoryId]>();
  meter
    .createObservableGauge(METRIC.probeSuccess, {
      description: "1 while a tls, dns or tcp probe's (or control's) latest run found nothing wrong, else 0",
    })
    .addCallback((gauge) => {
      for (const [probe, [value, category]] of success)
        gauge.observe(value, labels.ofProbeIn(category, probe));
    });
  meter
    .createObservableGauge(METRIC.tlsCertExpiry, {
      description:
        "Seconds until the certificate a tls probe was last served expires (negative once expired)",
      unit: "s",
    })
    .addCallback((gauge) => {
      for (const [probe, [value, category]] of expiry)
        gauge.observe(value, labels.ofProbeIn(category, probe));
    });
  return {
    record(result) {
      if (!isWithoutHttp(result)) return;
      success.set(result.probe, [result.error === null ? 1 : 0, result.category]);
      const seconds = result.observed?.expiry_seconds;
      if (typeof seconds === "number") expiry.set(result.probe, [seconds, result.category]);
      // A handshake that failed before a certificate was read says nothing about its expiry.
      else if (result.observed?.kind !== "tls") expiry.delete(result.probe);
    },
  };
}
