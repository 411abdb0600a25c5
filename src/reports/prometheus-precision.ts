/**
 * How figures computed by Prometheus differ from the store-based report, figure by figure. These
 * sentences are the report's honesty: keep them in step with what src/export actually exports.
 */
export const PROMETHEUS_PRECISION: readonly { readonly figure: string; readonly limit: string }[] = [
  {
    figure: "requests, successful",
    limit:
      "increase() over the month, so not whole numbers: Prometheus extrapolates at the edges of the " +
      "window (by up to 1.1 scrape intervals' requests per series at each edge) and never sees the requests a " +
      "series counted before its first scrape, nor those an agent made between its last scrape and a " +
      "stop or restart (a counter reset itself is handled). A scrape gap loses nothing unless the " +
      "agent restarted inside it. Expect a few requests per series and per agent restart; the store " +
      "counts every request exactly.",
  },
  {
    figure: "retention",
    limit:
      "Prometheus keeps 15 days by default: a month older than its retention " +
      "is counted only for the part still stored, with no error. Query a long-term store " +
      "(Thanos, Mimir, VictoriaMetrics) that keeps raw samples for the whole month.",
  },
  {
    figure: "availability",
    limit:
      "SR/R of the two figures above, pooled over agents and regions (a ratio of sums); it inherits " +
      "their error, which matters most for a category with few requests.",
  },
  {
    figure: "latency p99",
    limit:
      "increase() extrapolates each bucket on its own, so a bucket can come out slightly above the one " +
      "over it; as histogram_quantile() does, each bucket is then taken as at least the ones below it " +
      "(a source whose buckets are further out of order than extrapolation can make them is refused). " +
      "histogram_quantile() interpolates linearly inside the bucket the 99th percentile falls in; the " +
      "exact p99 (HDR histogram of the raw durations) can be anywhere in that bucket, whose bounds are " +
      "given with each figure. Each category's objective is itself a bucket bound, so whether the " +
      "objective was met is decided by whole buckets: it can differ from the store's answer only when " +
      "the count errors above move the 99% rank across the objective.",
  },
  {
    figure: "exclusions",
    limit:
      'Prometheus only knows what the agents counted under outcome="excluded": qualifying ' +
      "maintenance windows and exclusions that were in an agent's configuration when it made the " +
      "request, and its automatic exclusions (merchant_side, agent_error, target_unreached). Windows or exclusions " +
      "declared afterwards, and windows from the maintenance feed (agent.maintenance.feed), are not " +
      "applied: those requests count in R here, but not in the store-based report. Nor does it say why each " +
      "was excluded, so nothing here checks an exclusion against the windows and exclusions declared: the " +
      "store-based report records each excluded request with its reason.",
  },
  {
    figure: "not here",
    limit:
      "No evidence chain, signature, coverage, incidents or claim: use the store-based report for " +
      "anything sent to the provider.",
  },
];
