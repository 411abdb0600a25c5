/** Valid NDJSON results (contract section 3) covering every field, the seeds of the import fuzzing. */
export const NDJSON_LINES: readonly string[] = [
  '{"ts":"2026-10-01T00:00:30.000Z","probe":"payment-request-read","category":"payment_request","status":200,"duration_ms":123.456,"error":null,"error_code":null,"correlation_id":null}',
  '{"ts":"2026-10-01T00:01:00.000Z","probe":"payment-request-read","category":"payment_request","status":404,"duration_ms":88,"error":null,"error_code":"NOT_FOUND","correlation_id":"corr-1"}',
  '{"ts":"2026-10-01T00:01:30.000Z","probe":"payment-request-read","category":"payment_request","status":null,"duration_ms":10000,"error":"timeout"}',
  '{"ts":"2026-10-01T00:02:00.000Z","probe":"settlements-payout-summary","category":"settlements","status":503,"duration_ms":41.5,"error":null,"error_code":"TEMPORARILY_UNAVAILABLE","correlation_id":"c-2"}',
  '{"ts":"2026-10-01T00:02:30.000Z","probe":"settlements-payout-summary","category":"settlements","status":null,"duration_ms":3.2,"error":"reset","error_code":null,"correlation_id":null}',
  '{"ts":"2026-10-01T00:03:00.000Z","probe":"disputes-list","category":"disputes","status":200,"duration_ms":301.001,"error":null,"phases":{"dns_ms":0.1,"connect_ms":1.2,"tls_ms":5.5,"request_sent_ms":5.6,"ttfb_ms":300.9,"body_end_ms":301.0},"server_ms":280}',
  '{"ts":"2026-10-01T00:03:30.000Z","probe":"disputes-list","category":"disputes","status":null,"duration_ms":12,"error":"tls","detail":"certificate has expired"}',
  '{"ts":"2026-10-01T00:04:00.000Z","probe":"account-read","category":"account_operations","status":429,"duration_ms":9.75,"error":null,"error_code":"RATE_LIMITED","correlation_id":"ünïcødé-😀"}',
];
