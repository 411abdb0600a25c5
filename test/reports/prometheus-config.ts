/**
 * The configuration the report --prometheus suites give the CLI: one category (payment_request,
 * with this latency objective) in one service class, and a probe that is never run.
 */
export function onePaymentCategoryConfig(latencyP99Ms: number): string {
  return [
    "version: 1",
    "agent: {region: eu, listen: 127.0.0.1:0, data_dir: ./evidence}",
    "service_classes:",
    "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
    "categories:",
    `  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: ${latencyP99Ms}}`,
    "targets:",
    `  api: {base_url: "http://127.0.0.1:9", environment: simulator}`,
    "probes:",
    "  - {id: p, category: payment_request, target: api, every: 30s, path: /}",
    "",
  ].join("\n");
}
