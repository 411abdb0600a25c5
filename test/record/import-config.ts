/**
 * The slo.yaml the import suites share: one payment_request probe against the Klarna playground,
 * which they never run (they only import into, and report from, the store under ./evidence).
 * `agent` is what goes inside the agent mapping, its data_dir included.
 */
export function importSloYaml(agent = "data_dir: ./evidence"): string {
  return `version: 1
agent: {${agent}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  klarna: {base_url: "https://api.playground.klarna.com", environment: playground, auth: {type: none}}
probes:
  - {id: pr, category: payment_request, target: klarna, every: 30s, timeout_ms: 10000, path: /payments/v1/sessions/0}
`;
}
