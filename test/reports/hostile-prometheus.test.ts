/**
 * A hostile Prometheus-compatible API on loopback: counters that no counter can have (a negative
 * failed count that made availability 200 %, NaN, a string) are exit 1, and control characters in
 * its labels or error text never reach the terminal or the report.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { PrometheusValueError, prometheusMonthReport } from "../../src/reports/prometheus-month.js";
import { CLI, REPO } from "./cli-run.js";
import { onePaymentCategoryConfig } from "./prometheus-config.js";

const ESC = "\u001b";
let dir: string;
let server: Server;
let base: string;

const vector = (result: unknown[]) =>
  JSON.stringify({ status: "success", data: { resultType: "vector", result } });
const count = (outcome: string, value: string, region = "eu") => ({
  metric: { category: "payment_request", region, outcome },
  value: [1_700_000_000, value],
});

/**
 * Histograms (le, cumulative count), the p99 a hostile source answers with them and how many
 * scrapes it says each bucket's series had (count_over_time; 100 unless given).
 */
const HISTOGRAMS: Record<
  string,
  {
    buckets: [string, string][];
    p99: string;
    scrapes?: string;
    scrapesOf?: Record<string, string>;
    served?: string;
    failed?: string;
    /** How many request counters the source says the group has (count_over_time). */
    counters?: string;
    /** A third counter series (outcome excluded) with this value. */
    excluded?: string;
    extra?: Record<string, string>;
  }
> = {
  // Every response is between 150 and 200 ms, yet the p99 is said to be 0.1 ms.
  below: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.0001",
  },
  p99nan: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "NaN",
  },
  p99inf: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "+Inf",
  },
  // Halved from one bucket to the next: increase() adds at most 2.2 scrape intervals' worth to a
  // series seen in 100 scrapes, not 50 %.
  nonmono: {
    buckets: [
      ["0.1", "100"],
      ["0.2", "50"],
      ["+Inf", "101"],
    ],
    p99: "0.1",
  },
  // Even a series seen in only 2 scrapes is stretched at most 3.2 times: 100 -> 20 is no histogram.
  nonmono2: {
    buckets: [
      ["0.1", "100"],
      ["0.2", "20"],
      ["+Inf", "101"],
    ],
    p99: "0.1",
    scrapes: "2",
  },
  // Within what increase() can do to a series seen twice (100 / 3.2 = 31.25 <= 40): the buckets are
  // taken as histogram_quantile() takes them, each at least the one below it.
  stretched: {
    buckets: [
      ["0.1", "100"],
      ["0.2", "40"],
      ["+Inf", "101"],
    ],
    p99: "auto",
    scrapes: "2",
  },
  // Buckets that stop below the 1500 ms objective: 89 % of responses are slower than 100 ms, and
  // histogram_quantile() says 0.1 s (its answer when the rank is in +Inf). Neither met nor missed.
  truncated: {
    buckets: [
      ["0.05", "100"],
      ["0.1", "1000"],
      ["+Inf", "9010"],
    ],
    p99: "0.1",
    served: "9000",
  },
  // A p99 0.07 % under the bucket it is in: histogram_quantile() interpolates inside it.
  edge: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.1499",
  },
  // The +Inf bucket left out: the responses would vanish and the p99 read "no responses".
  noinf: {
    buckets: [
      ["0.1", "5"],
      ["0.2", "101"],
    ],
    p99: "0.199",
  },
  // Go's ParseFloat (histogram_quantile's) reads "+inf" as +Inf, so the report does too.
  inflower: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+inf", "101"],
    ],
    p99: "0.1995",
  },
  badle: {
    buckets: [
      ["0x1", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.5",
  },
  // Twice the same bound, spelled two ways.
  // A month across an upgrade to Prometheus 3, which writes the bound "1" as "1.0": each spelling
  // holds its part of the month, and histogram_quantile() adds them up.
  upgraded: {
    buckets: [
      ["1", "60"],
      ["1.0", "41"],
      ["1.5", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.99",
    scrapesOf: { "1": "49", "1.0": "51", "1.5": "100", "+Inf": "100" },
  },
  // 900,000 responses observed against 101 requests.
  overobserved: {
    buckets: [
      ["0.5", "900000"],
      ["+Inf", "900000"],
    ],
    p99: "0.4995",
  },
  // A second answer for the group, told apart by a label sum by (region, category, le) drops.
  extrabucket: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.1995",
    extra: { agent: "b" },
  },
  // A slow histogram with its buckets dropped (relabelling, a partial remote write) beside 9,000
  // served requests: the responses cannot vanish from the verdict.
  emptied: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "0"],
      ["+Inf", "0"],
    ],
    p99: "NaN",
    served: "9000",
  },
  // Fewer scrapes claimed for one bucket alone, to widen its allowance. A bucket's series can
  // honestly be younger than the others (a bound added by a changed objective), so this is within
  // what increase() can do; the report must say which buckets it took as larger than given.
  onelie: {
    buckets: [
      ["0.1", "0"],
      ["0.15", "9000"],
      ["0.2", "2900"],
      ["+Inf", "2900"],
    ],
    p99: "0.1495",
    served: "2900",
    scrapes: "2880",
    scrapesOf: { "0.15": "2" },
  },
  // The agents' bound for a 1001 ms objective is le="1.001", which reads 1000.9999999999999 ms.
  bound1001: {
    buckets: [
      ["0.5", "10"],
      ["1.001", "50"],
      ["5", "101"],
      ["+Inf", "101"],
    ],
    p99: "auto",
  },
  // What a real Prometheus 2.42 answered for a month scraped every 60 s (a promtool backfill in the
  // third hostile review): the first 4xx and 5xx of the month started counters of their own, whose
  // first count increase() cannot see, while the histogram, older, counted both responses.
  newseries: {
    buckets: [
      ["0.1", "22322"],
      ["+Inf", "22322"],
    ],
    p99: "0.099",
    served: "22320",
    failed: "0",
    excluded: "0",
    scrapes: "44641",
  },
  // 11,000 fast responses added to a slow month, +Inf saying it was scraped 2,880 times and the
  // finite buckets claiming 2 scrapes, to have the histogram taken as up to 3.2 times the requests.
  padded: {
    buckets: [
      ["0.15", "11000"],
      ["0.5", "20010"],
      ["+Inf", "20010"],
    ],
    p99: "0.4",
    served: "9000",
    scrapes: "2880",
    scrapesOf: { "0.15": "2", "0.5": "2" },
  },
  // A million request counters claimed, to have a histogram ten times the requests allowed: what
  // counters hide is requests the histogram saw, never more than the requests themselves.
  manycounters: {
    buckets: [
      ["0.1", "100000"],
      ["+Inf", "100000"],
    ],
    p99: "0.099",
    served: "9000",
    scrapes: "43200",
    counters: "1000000",
  },
  // The scrape counts left out, to have every bucket allowed the most extrapolation (2 scrapes):
  // count_over_time(...) > 1 keeps exactly the series increase() uses, so it cannot be empty here.
  nocounts: {
    buckets: [
      ["0.1", "30000"],
      ["0.5", "30000"],
      ["+Inf", "30000"],
    ],
    p99: "0.099",
    served: "9000",
    scrapes: "none",
  },
  // A true miss (8,800 of 9,010 responses within the 1500 ms objective) with a bucket below it
  // claimed young (2 scrapes, so allowed 3.2 times) and padded to every response: taken as
  // histogram_quantile() takes them, the bucket at the objective would hold them all.
  youngpad: {
    buckets: [
      ["0.1", "9010"],
      ["1.5", "8800"],
      ["5", "9010"],
      ["+Inf", "9010"],
    ],
    p99: "auto",
    served: "9000",
    scrapes: "43200",
    scrapesOf: { "0.1": "2" },
  },
  // The objective's and +Inf buckets claimed young (2 scrapes, allowed 3.2 times) beside older
  // buckets, to pass a third of the responses within the objective as 99 %: a +Inf series lives as
  // long as any of its histogram's buckets.
  younginf: {
    buckets: [
      ["0.1", "9010"],
      ["1.5", "3000"],
      ["5", "9010"],
      ["+Inf", "9010"],
    ],
    p99: "0.0999",
    served: "9000",
    scrapes: "2",
    scrapesOf: { "5": "43200" },
  },
  // A month across a Prometheus 3 upgrade with three scrapes missed: what the counters grew by
  // meanwhile is in neither "1" nor "1.0", so their sum is a little under the bucket below.
  upgradegap: {
    buckets: [
      ["0.5", "86400"],
      ["1", "43000"],
      ["1.0", "43394"],
      ["1.5", "86400"],
      ["+Inf", "86400"],
    ],
    p99: "auto",
    served: "86400",
    failed: "0",
    scrapes: "43197",
    scrapesOf: { "1": "21598", "1.0": "21599" },
  },
  // A second bound a hair above the objective's: an empty-width bucket (150, 150.00000001] ms that
  // would read as ending at the objective.
  nearbound: {
    buckets: [
      ["0.1", "0"],
      ["0.15", "0"],
      ["0.15000000001", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.15000000001",
  },
  // A true miss (100 of 9,010 responses over the 1500 ms objective, 1.1 %) with 2,000 fast
  // responses added, within what the checks allow beside a million counters said to be born in
  // the month: the slow ones are under 1 % of the responses, never of the requests.
  inflated: {
    buckets: [
      ["0.1", "2000"],
      ["1.5", "10910"],
      ["+Inf", "11010"],
    ],
    p99: "1.4984130190796856",
    served: "9000",
    scrapes: "43200",
    counters: "1000000",
  },
  // The same, its series said to be seen in 2 scrapes: increase() can stretch those 3.2 times, so
  // met within that, and the report must say that only the source's scrape counts make it met.
  inflatedyoung: {
    buckets: [
      ["0.1", "2000"],
      ["1.5", "10910"],
      ["+Inf", "11010"],
    ],
    p99: "1.4984130190796856",
    served: "9000",
    scrapes: "2",
    counters: "1000000",
  },
  // Half the served requests' responses left out of the histogram (within the served / 3.2 that a
  // young series allows), the slow ones among them: what is left is all fast.
  halfmissing: {
    buckets: [
      ["1.5", "4500"],
      ["+Inf", "4500"],
    ],
    p99: "1.485",
    served: "9000",
    scrapes: "43200",
  },
  // Half the responses beyond the largest finite bound, where histogram_quantile() can only answer
  // that bound (1500 ms), and a p99 of 900 ms given instead: a headline under the objective.
  beyondforged: {
    buckets: [
      ["0.1", "0"],
      ["1.5", "50"],
      ["+Inf", "101"],
    ],
    p99: "0.9",
  },
  // The failed counter dropped (100 % served) while the histogram keeps the failures' responses, a
  // million counters claimed so that the surplus passes as counters born in the month.
  nofailed: {
    buckets: [
      ["1.5", "9100"],
      ["+Inf", "9100"],
    ],
    p99: "1.485",
    served: "9000",
    failed: "0",
    scrapes: "43200",
    counters: "1000000",
  },
  // A bound added late in the month (le=0.25, 100 scrapes against 43,200): it holds less than the
  // older bucket below it by more than extrapolation, which only its youth allows.
  youngbound: {
    buckets: [
      ["0.1", "9000"],
      ["0.25", "8000"],
      ["1.5", "9010"],
      ["+Inf", "9010"],
    ],
    p99: "auto",
    served: "9000",
    scrapes: "43200",
    scrapesOf: { "0.25": "100" },
  },
  // A p99 exactly at its bucket's lower bound, the objective: histogram_quantile() puts a p99 there
  // in the bucket below (met), so "150 ms, missed" is no Prometheus' answer.
  // Inside its bucket, but not where the same buckets put it: 240.8 ms, shown as a near miss.
  interp: {
    buckets: [
      ["0.15", "90"],
      ["0.25", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.16",
  },
  atlower: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.15",
  },
  // Within floating-point noise of the objective's bucket bound, above it (2e-7): shown at the
  // bound, so a met objective never reads as a p99 over it.
  overupper: {
    buckets: [
      ["1", "0"],
      ["1.5", "99"],
      ["+Inf", "100"],
    ],
    // The buckets put it at 1500 ms exactly (99 of 100 at 1.5 s); 3e-7 over is floating-point noise.
    p99: "1.5000003",
  },
  // Missed by 0.01 ms: the p99 shown must not round onto the objective.
  justabove: {
    // 99 % of 34,999,900 is one response past the 1.5 s bucket's: 1500.01 ms as the buckets interpolate it.
    buckets: [
      ["1.5", "34649900"],
      ["5", "34999900"],
      ["+Inf", "34999900"],
    ],
    served: "34999900",
    failed: "0",
    p99: "auto",
  },
  sound: {
    buckets: [
      ["0.15", "0"],
      ["0.2", "101"],
      ["+Inf", "101"],
    ],
    p99: "0.1995",
  },
};

/** A vector answer with each sample's time set to `time` (seconds), as an instant query gives it. */
function atTime(text: string, time: number): string {
  const parsed = JSON.parse(text) as { data?: { result?: { value: [number, string] }[] } };
  for (const sample of parsed.data?.result ?? []) sample.value[0] = time;
  return JSON.stringify(parsed);
}

/**
 * A case's p99 as given, or with "auto" as Prometheus' histogram_quantile(0.99, ...) answers it for
 * the case's buckets (written here from promql's bucketQuantile, not taken from the report's code).
 */
function p99Of(histogram: { buckets: [string, string][]; p99: string }): string {
  if (histogram.p99 !== "auto") return histogram.p99;
  const buckets = histogram.buckets.map(
    ([le, n]) => [le === "+Inf" ? Infinity : Number(le), Number(n)] as const,
  );
  buckets.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < buckets.length; i++)
    buckets[i] = [buckets[i]![0], Math.max(buckets[i]![1], buckets[i - 1]![1])];
  const rank = 0.99 * buckets.at(-1)![1];
  const b = buckets.findIndex(([, n]) => n >= rank);
  if (b === buckets.length - 1) return String(buckets[b - 1]![0]);
  const [start, below] = b === 0 ? [0, 0] : buckets[b - 1]!;
  const [end, count] = buckets[b]!;
  return String(start + (end - start) * ((rank - below) / (count - below)));
}

/** A p99 series' labels as `histogram_quantile(0.99, sum by (...) ...)` keeps them. */
const p99Labels = (query: string) =>
  query.includes("sum by (region")
    ? { category: "payment_request", region: "eu" }
    : { category: "payment_request" };

/** The path's first segment picks what the counters say; histogram queries get no series. */
function answer(path: string, query: string): [number, string] {
  const claimed = HISTOGRAMS[path.split("/")[1] ?? ""]?.counters;
  if (query.startsWith("count by (region, category)") && claimed !== undefined) {
    return [
      200,
      vector([{ metric: { category: "payment_request", region: "eu" }, value: [1_700_000_000, claimed] }]),
    ];
  }
  if (query.startsWith("count by (region, category)")) {
    // The number of request counters per group, as many as the counters' answer has series.
    const [status, text] = answer(
      path,
      "sum by (region, category, outcome) (increase(slo_probe_requests_total[1s]))",
    );
    if (status !== 200) return [status, text];
    const series = (JSON.parse(text) as { data: { result: { metric: Record<string, string> }[] } }).data
      .result;
    const groups = new Map<string, { category: string; region: string; n: number }>();
    for (const { metric } of series) {
      const key = `${metric.category}\u0000${metric.region}`;
      const group = groups.get(key) ?? { category: metric.category!, region: metric.region!, n: 0 };
      group.n += 1;
      groups.set(key, group);
    }
    return [
      200,
      vector(
        [...groups.values()].map((g) => ({
          metric: { category: g.category, region: g.region },
          value: [1_700_000_000, String(g.n)],
        })),
      ),
    ];
  }
  // A Prometheus that scrapes no agent (a wrong URL): every query has an empty answer.
  if (path.startsWith("/empty/")) return [200, vector([])];
  if (path.startsWith("/digitregions/")) {
    // A token of digits, seven to a region name.
    const pieces = ["4815162", "3421086", "7530927", "1828"];
    return [
      200,
      vector(pieces.flatMap((region) => [count("served", "100", region), count("failed", "1", region)])),
    ];
  }
  if (path.startsWith("/notepos/") && query.includes("histogram_quantile")) {
    const note = (position: string) =>
      `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (and may give inaccurate results) for metric name "" (${position})`;
    return [
      200,
      JSON.stringify({
        status: "success",
        warnings: ["4815162342:1", "1086753092:7", "18281:1"].map(note),
        data: {
          resultType: "vector",
          result: [{ metric: p99Labels(query), value: [1_700_000_000, "0.099"] }],
        },
      }),
    ];
  }
  if (path.startsWith("/notepieces/") && query.includes("histogram_quantile")) {
    // Monotonicity notes worded as Prometheus words them, each naming a metric of 7 of the token's characters.
    const note = (name: string) =>
      `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (and may give inaccurate results) for metric name "${name}" (1:26)`;
    return [
      200,
      JSON.stringify({
        status: "success",
        warnings: ["s3cr3t_", "T0ken_a", "bcdefgh", "ij_0123", "x456789"].map(note),
        data: {
          resultType: "vector",
          result: [{ metric: p99Labels(query), value: [1_700_000_000, "0.099"] }],
        },
      }),
    ];
  }
  if (path.startsWith("/escape/")) {
    return [
      400,
      JSON.stringify({
        status: "error",
        errorType: "bad_data",
        error: `${ESC}]0;owned${ESC}\\${ESC}[2Jgone\u202Edesrever\u2028\u200B\uFEFF\u{E0041}`,
      }),
    ];
  }
  if (path.startsWith("/p99/") && !query.includes("slo_probe_requests_total")) {
    const metric = { category: "payment_request", region: "eu" };
    // The p99 says 50 s while every request is in the bucket up to 0.1 s.
    if (query.includes("histogram_quantile"))
      return [200, vector([{ metric: p99Labels(query), value: [1_700_000_000, "50"] }])];
    return [
      200,
      vector([
        { metric: { ...metric, le: "0.1" }, value: [1_700_000_000, "101"] },
        { metric: { ...metric, le: "+Inf" }, value: [1_700_000_000, "101"] },
      ]),
    ];
  }
  const histogram = HISTOGRAMS[path.split("/")[1] ?? ""];
  if (histogram?.served !== undefined && query.includes("slo_probe_requests_total")) {
    const third = histogram.excluded === undefined ? [] : [count("excluded", histogram.excluded)];
    return [
      200,
      vector([count("served", histogram.served), count("failed", histogram.failed ?? "10"), ...third]),
    ];
  }
  if (histogram !== undefined && !query.includes("slo_probe_requests_total")) {
    const metric = { category: "payment_request", region: "eu", ...histogram.extra };
    if (query.includes("histogram_quantile"))
      return [200, vector([{ metric: p99Labels(query), value: [1_700_000_000, p99Of(histogram)] }])];
    if (query.includes("count_over_time")) {
      if (histogram.scrapes === "none") return [200, vector([])];
      const scrapes = (le: string) => histogram.scrapesOf?.[le] ?? histogram.scrapes ?? "100";
      return [
        200,
        vector(
          histogram.buckets.map(([le]) => ({
            metric: { ...metric, le },
            value: [1_700_000_000, scrapes(le)],
          })),
        ),
      ];
    }
    return [
      200,
      vector(histogram.buckets.map(([le, n]) => ({ metric: { ...metric, le }, value: [1_700_000_000, n] }))),
    ];
  }
  if (path.startsWith("/negp99/") && query.includes("histogram_quantile")) {
    return [200, vector([{ metric: p99Labels(query), value: [1_700_000_000, "-2"] }])];
  }
  const counters = counterAnswer(path);
  return query.includes("slo_probe_requests_total") ? counters : histogramOf(counters, query);
}

/**
 * What the histogram queries answer beside counters that say nothing about latency: each served
 * request a response under 0.1 s, as an agent records them (served as sent, so a hostile count
 * still reaches the check it is for), and the p99 histogram_quantile() gives them: 0.099 s.
 */
function histogramOf([status, text]: [number, string], query: string): [number, string] {
  const parsed = JSON.parse(text) as {
    data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
  };
  const served = (parsed.data?.result ?? []).filter((r) => r.metric.outcome === "served");
  if (status !== 200 || served.length === 0) return [200, vector([])];
  const { category, region } = served[0]!.metric;
  if (query.includes("histogram_quantile")) {
    const labels = query.includes("sum by (region") ? { category, region } : { category };
    return [200, vector([{ metric: labels, value: [1_700_000_000, "0.099"] }])];
  }
  const value = query.includes("count_over_time") ? "100" : served[0]!.value[1];
  return [
    200,
    vector(
      ["0.1", "+Inf"].map((le) => ({ metric: { category, region, le }, value: [1_700_000_000, value] })),
    ),
  ];
}

/** What slo_probe_requests_total answers for the path's first segment. */
function counterAnswer(path: string): [number, string] {
  if (path.startsWith("/overflow/"))
    return [200, vector([count("served", "1.7e308"), count("failed", "1.7e308")])];
  if (path.startsWith("/unsafe/"))
    return [200, vector([count("served", "9007199254740993"), count("failed", "0")])];
  if (path.startsWith("/negative/")) return [200, vector([count("served", "100"), count("failed", "-50")])];
  if (path.startsWith("/hex/")) return [200, vector([count("served", "0x10"), count("failed", "0")])];
  if (path.startsWith("/timeout/")) return [200, vector([count("served", "100"), count("timeout", "500")])];
  if (path.startsWith("/splitlabels/")) {
    // The token in pieces of 7, each too short to be taken for part of it, as label names and values.
    const metric = {
      ...count("served", "100").metric,
      "s3cr3t-": "T0ken-a",
      bcdefgh: "ij-0123",
      "456789": "x",
    };
    return [200, vector([{ metric, value: [1_700_000_000, "100"] }, count("failed", "1")])];
  }
  if (path.startsWith("/digits/")) {
    // 14 digits of the token as a count of excluded requests in a region of its own.
    return [
      200,
      vector([count("served", "100"), count("failed", "1"), count("excluded", "12340123456789", "zz")]),
    ];
  }
  if (path.startsWith("/splitregions/")) {
    // The token in pieces of 7, each a region of its own with a sound month.
    const pieces = ["s3cr3t-", "T0ken-a", "bcdefgh", "ij-0123", "456789"];
    return [
      200,
      vector(pieces.flatMap((region) => [count("served", "100", region), count("failed", "1", region)])),
    ];
  }
  if (path.startsWith("/accents/") || path.startsWith("/percent/")) {
    // The token as a region: an accent after each letter, or every second character %-encoded.
    const token = "s3cr3t-T0ken-abcdefghij-0123456789";
    const region = path.startsWith("/accents/")
      ? [...token].map((c) => (/[a-z]/i.test(c) ? `${c}\u0301` : c)).join("")
      : [...token]
          .map((c, i) => (i % 2 === 1 ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c))
          .join("");
    return [200, vector([count("served", "100"), count("failed", "1"), count("served", "1", region)])];
  }
  if (path.startsWith("/digitsum/")) {
    // Neither count holds 8 of the token's digits; their sum, shown as requests, holds 14.
    return [200, vector([count("served", "11111111111111"), count("failed", "75641979012345")])];
  }
  if (path.startsWith("/hexsum/")) {
    // Excluded requests of two regions adding up to 3366396130633764: the hex of "3f9a0c7d".
    return [
      200,
      vector([
        count("served", "100"),
        count("failed", "1"),
        count("excluded", "3000000000000000"),
        count("excluded", "366396130633764", "na"),
      ]),
    ];
  }
  if (path.startsWith("/dotdigits/")) {
    return [
      200,
      vector([count("served", "100"), count("failed", "1"), count("excluded", "8675309.0123456")]),
    ];
  }
  if (path.startsWith("/manytexts/")) {
    const series = Array.from({ length: 20_000 }, (_, i) => ({
      metric: { region: `r${i}`, category: "payment_request", outcome: "served" },
      value: [1_700_000_000, "1"],
    }));
    return [200, vector(series)];
  }
  if (path.startsWith("/manylabels/")) {
    const metric = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, "v"]));
    return [200, vector([{ metric, value: [1_700_000_000, "100"] }])];
  }
  if (path.startsWith("/manyseries/")) {
    const series = Array.from({ length: 60_000 }, (_, i) => ({ metric: { i: String(i) }, value: [0, "1"] }));
    return [200, vector(series)];
  }
  if (path.startsWith("/manyregions/")) {
    // 1,100 distinct region labels: no agents' answer has more than a few hundred distinct texts.
    const regions = Array.from({ length: 1_100 }, (_, i) => `region-number-${i}`);
    return [200, vector(regions.map((region) => count("served", "100", region)))];
  }
  if (path.startsWith("/vmpartial/")) {
    // A VictoriaMetrics cluster with a storage node down: no warning, only isPartial.
    const answer = JSON.parse(vector([count("served", "100"), count("failed", "1")]));
    return [200, JSON.stringify({ ...answer, isPartial: true })];
  }
  if (path.startsWith("/onlyexcluded/"))
    return [200, vector([count("served", "0"), count("failed", "0"), count("excluded", "100")])];
  if (path.startsWith("/zeros/")) return [200, vector([count("served", "0"), count("failed", "0")])];
  if (path.startsWith("/fraction/")) return [200, vector([count("served", "0.4"), count("failed", "0")])];
  // 98.9999 %: under a 99 % target by less than "99.000 %" shows.
  if (path.startsWith("/nearly/"))
    return [200, vector([count("served", "989999"), count("failed", "10001")])];
  if (path.startsWith("/agentlabel/")) {
    return [
      200,
      vector([
        count("served", "100"),
        count("failed", "1"),
        { metric: { ...count("served", "100").metric, agent: "b" }, value: [1_700_000_000, "100"] },
      ]),
    ];
  }
  if (path.startsWith("/splitwarn/")) {
    // The token in pieces of 7, each a warning of its own.
    return [
      200,
      JSON.stringify({
        status: "success",
        warnings: ["s3cr3t-", "T0ken-a", "bcdefgh", "ij-0123", "456789"],
        data: { resultType: "vector", result: [count("served", "100"), count("failed", "1")] },
      }),
    ];
  }
  if (path.startsWith("/warned/")) {
    return [
      200,
      JSON.stringify({
        status: "success",
        warnings: [
          `partial response: store eu-2 down${ESC}[2J`,
          ...Array.from({ length: 24 }, (_, i) => `store ${i} slow`),
        ],
        data: { resultType: "vector", result: [count("served", "100"), count("failed", "1")] },
      }),
    ];
  }
  if (path.startsWith("/dup/"))
    return [200, vector([count("served", "100"), count("served", "100"), count("failed", "1")])];
  if (path.startsWith("/nan/")) return [200, vector([count("served", "NaN"), count("failed", "0")])];
  if (path.startsWith("/inf/")) return [200, vector([count("served", "+Inf"), count("failed", "0")])];
  if (path.startsWith("/invisible/")) {
    const region = "e\u2060u\u200c\u200d\u00ad\u3164\u115f\ufe0f\u034f\u180e\ufff9";
    return [200, vector([count("served", "100", region), count("failed", "1", region)])];
  }
  if (path.startsWith("/quoted/")) {
    // A label value that, printed as it is, would forge the rest of the message's label set.
    const region = 'eu", category="payment_request", verdict="MET';
    return [200, vector([count("served", "0x10", region), count("failed", "1", region)])];
  }
  if (path.startsWith("/label/")) {
    return [
      200,
      vector([
        count("served", "100", `eu${ESC}[31m|<b>x</b>`),
        count("failed", "1", `eu${ESC}[31m|<b>x</b>`),
      ]),
    ];
  }
  return [200, vector([count("served", "100"), count("failed", "1")])];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-hostile-prometheus-"));
  writeFileSync(join(dir, "slo.yaml"), onePaymentCategoryConfig(1500));
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (request.url?.startsWith("/huge/")) {
        // 17 MiB of one vector, written as fast as the socket takes it.
        response.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(1024 * 1024, " ");
        response.write('{"status":"success","data":{"resultType":"vector","result":[');
        const more = (left: number) => {
          if (left === 0) return response.end("]}}");
          if (response.write(chunk)) more(left - 1);
          else response.once("drain", () => more(left - 1));
        };
        response.on("error", () => {});
        return more(17);
      }
      const form = new URLSearchParams(body);
      const auth = request.headers.authorization ?? "";
      if (request.url?.startsWith("/echoerror/")) {
        // A proxy that quotes the credentials it refused, the token 190 characters in (where a cut
        // to 200 characters would leave part of it).
        response.writeHead(400, { "content-type": "application/json" });
        return response.end(
          JSON.stringify({ status: "error", errorType: "bad_data", error: `${"x".repeat(190)} ${auth}` }),
        );
      }
      const mono = /^\/(monowarn|monowarn248|monopartial)(\/.*)$/.exec(request.url ?? "");
      if (mono) {
        // Prometheus 2.48+ on honest out-of-order buckets: the answers under the rest of the path,
        // with its note as it words it, or with a partial answer's warning joined to that wording.
        const [status, text] = answer(mono[2]!, form.get("query") ?? "");
        const parsed = JSON.parse(text) as { warnings?: string[] };
        const note =
          'PromQL warning: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name "slo_probe_duration_seconds_bucket" (1:23)';
        if (form.get("query")?.startsWith("histogram_quantile")) {
          const note248 =
            'PromQL info: input to histogram_quantile needed to be fixed for monotonicity (and may give inaccurate results) for metric name "" (1:26)';
          parsed.warnings = [
            { monowarn: note, monowarn248: note248, monopartial: `${note}; partial response: store eu down` }[
              mono[1] as "monowarn"
            ],
          ];
        }
        response.writeHead(status, { "content-type": "application/json" });
        return response.end(atTime(JSON.stringify(parsed), Number(form.get("time"))));
      }
      const [status, text] = answer(request.url ?? "/", form.get("query") ?? "");
      if (request.url?.startsWith("/echowarn/")) {
        // The same proxy quoting the header in a warning, once whole, once base64-encoded.
        const parsed = JSON.parse(text) as { warnings?: string[] };
        const token = auth.replace(/^Bearer /, "");
        const fullwidth = [...token].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join("");
        parsed.warnings = [
          `partial answer for ${auth}`,
          `retry with ${Buffer.from(auth).toString("base64")}`,
          // Split by characters stripped before printing, cut short, written fullwidth.
          `bel ${token.slice(0, 6)}\u0007${token.slice(6)} rlo ${token.slice(0, 10)}\u202e${token.slice(10)}`,
          `cut ${token.slice(0, 12)} wide ${fullwidth}`,
        ];
        response.writeHead(status, { "content-type": "application/json" });
        return response.end(atTime(JSON.stringify(parsed), Number(form.get("time"))));
      }
      response.writeHead(status, { "content-type": "application/json" });
      // Each sample at the time asked, as Prometheus answers, except from a stale cache.
      response.end(request.url?.startsWith("/stale/") ? text : atTime(text, Number(form.get("time"))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `--fail-on-miss` on the answers under `prefix`: exit 1, stderr saying `why`. */
async function expectGateFails(prefix: string, why: string): Promise<void> {
  const gate = await report(prefix, "json", ["--fail-on-miss"]);
  expect(gate.code).toBe(1);
  expect(gate.stderr).toContain(why);
}

function report(prefix: string, format: string, extra: readonly string[] = [], token = "") {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        CLI,
        "report",
        "--month",
        "2026-10",
        "--config",
        join(dir, "slo.yaml"),
        "--prometheus",
        `${base}/${prefix}`,
        "--format",
        format,
        ...extra,
      ],
      { cwd: REPO, env: { ...process.env, SLO_AGENT_PROMETHEUS_TOKEN: token }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/**
 * What `report --prometheus URL/PREFIX` does after reading its flags, in this process: the same
 * prometheusMonthReport over HTTP to the same server, a refusal of its figures mapped as the
 * command maps it (exit 1, its message after "slo-agent report --prometheus: "). Each process
 * costs about a CPU-second, so each table's first case goes through the real CLI and the others
 * through this.
 */
async function refusal(prefix: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { config } = await loadConfig(join(dir, "slo.yaml"), { probing: false });
  try {
    const source = { url: `${base}/${prefix}` };
    await prometheusMonthReport({ config, source, month: "2026-10", now: Date.now() });
    return { code: 0, stdout: "(a report)", stderr: "" };
  } catch (error) {
    if (!(error instanceof PrometheusValueError)) throw error;
    return { code: 1, stdout: "", stderr: `slo-agent report --prometheus: ${error.message}\n` };
  }
}

/** A table's first case through the real CLI, the others in-process (refusal). */
const refusedOf = (prefix: string, format: string, i: number) =>
  i === 0 ? report(prefix, format) : refusal(prefix);
const viaCli = (i: number) => (i === 0 ? " (through the CLI)" : "");

describe("report --prometheus against a hostile source", () => {
  for (const [i, [prefix, shown]] of [
    ["negative", "-50"],
    ["nan", "NaN (not a number)"],
    ["inf", "+Inf (infinite)"],
  ].entries()) {
    it(`refuses a ${prefix} counter (exit 1, naming the URL)${viaCli(i)}`, async () => {
      const run = await refusedOf(prefix!, "json", i);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`${base}/${prefix}: slo_probe_requests_total`);
      expect(run.stderr).toContain(`is ${shown}: counts must be finite and >= 0;`);
    }, 60_000);
  }

  for (const [i, [prefix, shown]] of [
    [
      "overflow",
      "payment_request: requests adds up to +Inf (infinite), beyond 9007199254740991: a sum of counts must stay a whole number up to 2^53 - 1;",
    ],
    [
      "unsafe",
      "payment_request: requests adds up to 9007199254740992, beyond 9007199254740991: a sum of counts must stay a whole number up to 2^53 - 1;",
    ],
    [
      "negp99",
      'a p99 of -2 s {category="payment_request", region="eu"}: a p99 must be >= 0 (no data and +Inf are Prometheus\' own answers);',
    ],
    [
      "p99",
      "payment_request: a p99 of 50000 ms above the bucket it is in (0-100 ms): a p99 interpolated from the histogram lies inside its bucket;",
    ],
  ].entries()) {
    it(`refuses derived figures no counter can give: ${prefix} (exit 1, naming the URL)${viaCli(i)}`, async () => {
      const run = await refusedOf(prefix!, "json", i);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`${base}/${prefix}: ${shown}`);
      expect(run.stderr).not.toContain("counts must be finite");
      expect(run.stdout + run.stderr).not.toContain("Infinity");
    }, 60_000);
  }

  for (const [i, [prefix, shown]] of [
    [
      "below",
      "payment_request: a p99 of 0.1 ms below the bucket it is in (150-200 ms): a p99 interpolated from the histogram lies inside its bucket;",
    ],
    [
      "p99nan",
      "payment_request: no finite p99 (NaN, +Inf or none) while the histogram puts it in 150-200 ms: a finite p99 where the histogram holds responses in a finite bucket;",
    ],
    [
      "p99inf",
      "payment_request: no finite p99 (NaN, +Inf or none) while the histogram puts it in 150-200 ms",
    ],
    [
      "hex",
      'slo_probe_requests_total {category="payment_request", region="eu", outcome="served"} is "0x10": values must be decimal numbers as Prometheus writes them',
    ],
    [
      "dup",
      'slo_probe_requests_total {category="payment_request", region="eu", outcome="served"} comes twice: each series once in an answer (by its labels);',
    ],
    [
      "nonmono",
      "payment_request in region eu: 50 requests up to le=0.2 but 100 up to le=0.1, more than increase() can add to a series seen in 100 scrapes: cumulative bucket counts never decrease as le grows, beyond what increase() extrapolates (agents of one region with different bucket bounds break this too: see docs/regions.md);",
    ],
    [
      "edge",
      "payment_request: a p99 of 149.9 ms below the bucket it is in (150-200 ms): a p99 interpolated from the histogram lies inside its bucket;",
    ],
    [
      "beyondforged",
      "payment_request: a p99 of 900 ms while the histogram puts it beyond its largest finite bound, 1500 ms: a p99 beyond the largest finite bound is that bound, as histogram_quantile() answers it;",
    ],
    [
      "atlower",
      "payment_request: a p99 of 150 ms at the lower bound of the bucket it is in (150-200 ms): a p99 interpolated from the histogram lies inside its bucket;",
    ],
    ["interp", "payment_request: a p99 of 160 ms where its buckets interpolate to 240.8"],
    [
      "noinf",
      'payment_request in region eu: buckets without le="+Inf": each bucket\'s le a number or +Inf, and each histogram with its +Inf bucket;',
    ],
    [
      "badle",
      'the latency histogram\'s buckets {category="payment_request", region="eu", le="0x1"}: each bucket\'s le a number or +Inf',
    ],
    [
      "overobserved",
      "payment_request in region eu: 900000 responses in the latency histogram but 101 requests, 100 of them served: a histogram holds every served request's response and no more responses than there were requests;",
    ],
    [
      "extrabucket",
      'the latency histogram\'s buckets {category="payment_request", region="eu", le="0.15"} has 1 more label (not shown), outside sum by (region, category, le): each series carries only the labels its query groups by;',
    ],
    [
      "agentlabel",
      'slo_probe_requests_total {category="payment_request", region="eu", outcome="served"} has 1 more label (not shown), outside sum by (region, category, outcome):',
    ],
    [
      "fraction",
      'slo_probe_requests_total {category="payment_request", region="eu", outcome="served"} is 0.4: an increase() of whole counts is 0 or at least 1;',
    ],
    [
      "emptied",
      "payment_request in region eu: 0 responses in the latency histogram but 9010 requests, 9000 of them served: a histogram holds every served request's response",
    ],
    [
      "timeout",
      'slo_probe_requests_total {category="payment_request", region="eu", outcome="timeout"}: each request counted as served, failed or excluded;',
    ],
    [
      "stale",
      'slo_probe_requests_total {category="payment_request", region="eu", outcome="served"} is for 2023-11-14T22:13:20.000Z, not 2026-11-01T00:00:00.000Z: each sample evaluated at the time asked;',
    ],
    [
      "padded",
      "payment_request in region eu: 20010 responses in the latency histogram but 9010 requests, 9000 of them served:",
    ],
    [
      "manycounters",
      "payment_request in region eu: 100000 responses in the latency histogram but 9010 requests, 9000 of them served:",
    ],
    [
      "nocounts",
      "payment_request in region eu: le=0.1 has no scrape count: count_over_time() answers for every bucket increase() answers for,",
    ],
    ["younginf", "payment_request in region eu: le=5 seen in 43200 scrapes but +Inf in 2:"],
    [
      "nearbound",
      "the latency histogram's buckets of payment_request in region eu: le=0.15 and le=0.15000000001 are one bound:",
    ],
    [
      "nonmono2",
      "payment_request in region eu: 20 requests up to le=0.2 but 100 up to le=0.1, more than increase() can add to a series seen in 2 scrapes:",
    ],
  ].entries()) {
    it(`refuses what no Prometheus writes: ${prefix} (exit 1, naming the URL and the rule)${viaCli(i)}`, async () => {
      const run = await refusedOf(prefix!, "md", i);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`${base}/${prefix}: ${shown}`);
    }, 60_000);
  }

  it("buckets out of order by no more than increase() extrapolates are taken as histogram_quantile() takes them (exit 0)", async () => {
    const { config } = await loadConfig(join(dir, "slo.yaml"), { probing: false });
    const source = { url: `${base}/stretched` };
    const month = await prometheusMonthReport({ config, source, month: "2026-10", now: Date.now() });
    // 100, 40, 101 read as 100, 100, 101: the p99 (rank 99.99) is in the first bucket.
    expect(month.categories[0]!.latency_p99_bucket_ms).toEqual({ lower: 0, upper: 100 });
    expect(month.categories[0]!.latency_p99_ms).toBeCloseTo(99.99, 6);
  });

  it("decides a latency objective by the p99's bucket: one that spans the objective is undecided, and fails --fail-on-miss", async () => {
    const run = await report("truncated", "json");
    expect(run.code, run.stderr).toBe(0);
    const row = JSON.parse(run.stdout).categories[0];
    // histogram_quantile() says 100 ms, under the 1500 ms objective; the bucket says (100 ms, +Inf).
    expect(row.latency_p99_ms).toBe(100);
    expect(row.latency_p99_bucket_ms).toEqual({ lower: 100, upper: null });
    expect(row.latency_met).toBeNull();
    expect(row.latency_undecided).toContain("no bound at the 1500 ms objective");
    expect(row.latency_undecided).toContain("between 100 ms and +Inf");
    expect(run.stderr).toContain("payment_request: latency objective undecided:");
    const gate = await report("truncated", "md", ["--fail-on-miss"]);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain("1500 ms: **undecided**");
    expect(gate.stderr).toContain("latency objectives undecided in 2026-10: payment_request");
  }, 60_000);

  it("decides by the agents' own bound at an objective, whatever its floating-point reading (le=1.001 for 1001 ms)", async () => {
    const { config } = await loadConfig(join(dir, "slo.yaml"), { probing: false });
    const objective = { ...config.categories.get("payment_request")!, latencyP99Ms: 1001 };
    const month = await prometheusMonthReport({
      config: { ...config, categories: new Map([["payment_request", objective]]) },
      source: { url: `${base}/bound1001` },
      month: "2026-10",
      now: Date.now(),
    });
    expect(month.categories[0]!.latency_p99_bucket_ms!.lower).toBeCloseTo(1001, 9);
    expect(month.categories[0]!.latency_met).toBe(false);
    expect(month.categories[0]!.latency_undecided).toBeNull();
  });

  it("says which buckets it took as larger than given, and the allowance that let it", async () => {
    const run = await report("onelie", "md");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Buckets taken as histogram_quantile() takes them");
    expect(run.stdout).toContain(
      "payment\\_request in region eu: le=0.2 taken as 9000, not 2900 (a bucket below it holds more; increase() can stretch a series seen in 2 scrapes that far)",
    );
    expect(run.stdout).toContain(
      "le=+Inf taken as 9000, not 2900 (a bucket below it holds more; increase() can stretch a series seen in 2 scrapes that far)",
    );
    const json = await report("sound", "json");
    expect(JSON.parse(json.stdout).repaired_buckets).toEqual([]);
    // October 2026 is over: nothing preliminary.
    expect(JSON.parse(json.stdout).preliminary).toBe(false);
    expect(run.stdout).not.toContain("PRELIMINARY");
  }, 60_000);

  it("reports a month whose first 4xx and 5xx started counters of their own (a real Prometheus' answer)", async () => {
    const run = await refusal("newseries");
    expect(run.code, run.stderr).toBe(0);
  });

  for (const [prefix, what, why] of [
    [
      "youngpad",
      "a bucket below the objective, taken as larger",
      "the bucket at the 1500 ms objective holds 8800 responses",
    ],
    [
      "inflated",
      "fast responses beyond the requests",
      "the histogram holds 11010 responses, 2000 beyond their regions' 9010 requests (served and failed); without them, the bucket at the 1500 ms objective holds 8910, under the 8919.9 of the 99th percentile",
    ],
    [
      "halfmissing",
      "served requests without a response",
      "of 9000 served requests, 4500 have no response in the latency histogram (each region's histogram holds every " +
        "served request's response): taken as slower than the 1500 ms objective, the bucket at it holds 4500 of 9000",
    ],
  ] as const) {
    it(`never lets ${what} make a miss met: undecided, and --fail-on-miss fails (${prefix})`, async () => {
      const run = await report(prefix, "json", ["--fail-on-miss"]);
      expect(run.code).toBe(1);
      const row = JSON.parse(run.stdout).categories[0];
      expect(row.latency_met).toBeNull();
      expect(row.latency_undecided).toContain(why);
      expect(run.stderr).toContain("latency objectives undecided in 2026-10: payment_request");
    }, 60_000);
  }

  it("says a latency objective met only within increase()'s extrapolation of few claimed scrapes", async () => {
    // The inflated histogram claimed seen in 2 scrapes is met only within increase()'s extrapolation:
    // said in the row, on stderr and in Markdown.
    const young = await report("inflatedyoung", "md");
    expect(young.code, young.stderr).toBe(0);
    expect(young.stdout).toContain("1500 ms: met (within extrapolation, below)");
    expect(young.stdout).toContain("Latency objectives met only within what increase() extrapolates:");
    expect(young.stderr).toContain(
      "payment_request: latency objective met only within increase()'s extrapolation: the bucket at the 1500 ms objective " +
        "holds 10910 responses (8910 without the 2000 beyond their regions' 9010 requests), under the 8919.9 of the 99th " +
        "percentile; increase() can stretch a series seen in 2 scrapes that far",
    );
  }, 60_000);

  it("never lets requests the counters left out make an availability met: undecided, and --fail-on-miss fails", async () => {
    const run = await report("nofailed", "md", ["--fail-on-miss"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("| 99 %: **undecided** |");
    expect(run.stdout).toContain("Availability objectives these counters cannot decide:");
    const why =
      "the latency histogram holds 100 responses beyond the 9000 requests counted (each region's responses come with " +
      "its requests): as failures they make 98.9010989010989 %, as served 100 %, either side of the 99 % objective";
    expect(run.stderr).toContain(`payment_request: availability objective undecided: ${why}`);
    expect(run.stderr).toContain(`transaction_critical: availability objective undecided: ${why}`);
    expect(run.stderr).toContain(
      "availability objectives undecided in 2026-10: payment_request, transaction_critical",
    );
    const json = JSON.parse((await report("nofailed", "json")).stdout);
    expect(json.categories[0].availability_met).toBeNull();
    expect(json.categories[0].responses_beyond_requests).toBe(100);
    expect(json.categories[0].latency_met).toBe(true);
  }, 60_000);

  it("says a bucket was taken as larger because its series is younger, not because increase() stretched the one below", async () => {
    const run = await report("youngbound", "json");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).repaired_buckets).toEqual([
      "payment_request in region eu: le=0.25 taken as 9000, not 8000 (a bucket below it holds more; more than " +
        "increase() can stretch a series seen in 43200 scrapes, but this bucket's own series is younger (seen in 100 " +
        "scrapes, a bound added since): it grew over part of the month only)",
    ]);
  }, 60_000);

  it("shows a p99 on the side of the objective its bucket decided (met at the bound, missed never rounded onto it)", async () => {
    const met = await report("overupper", "json", ["--fail-on-miss"]);
    expect(met.code, met.stderr).toBe(0);
    const row = JSON.parse(met.stdout).categories[0];
    expect(row.latency_met).toBe(true);
    expect(row.latency_p99_ms).toBe(1500);
    expect(row.regions[0].latency_p99_ms).toBe(1500);
    const missed = await report("justabove", "md");
    expect(missed.code, missed.stderr).toBe(0);
    expect(missed.stdout).toContain("| 1500.01 ms (bucket 1500–5000 ms) |");
    expect(missed.stdout).toContain("1500 ms: **missed**");
  }, 60_000);

  it("adds up one bound spelled two ways, as histogram_quantile() does (a month across a Prometheus 3 upgrade)", async () => {
    const run = await report("upgraded", "json", ["--fail-on-miss"]);
    expect(run.code, run.stderr).toBe(0);
    const row = JSON.parse(run.stdout).categories[0];
    expect(row.latency_p99_bucket_ms).toEqual({ lower: 0, upper: 1000 });
    expect(row.latency_met).toBe(true);
  }, 60_000);

  it("takes a bound spelled two ways that missed an upgrade's downtime as repaired, not as a lie (exit 0)", async () => {
    const run = await report("upgradegap", "json", ["--fail-on-miss"]);
    expect(run.code, run.stderr).toBe(0);
    const report_ = JSON.parse(run.stdout);
    expect(report_.categories[0].latency_met).toBe(true);
    expect(report_.repaired_buckets).toEqual([
      expect.stringContaining(
        "le=1 taken as 86400, not 86394 (a bucket below it holds more; this bound is spelled two ways, each seen for part of the month",
      ),
    ]);
  }, 60_000);

  it("reads le as Go's ParseFloat does (+inf is +Inf)", async () => {
    const { config } = await loadConfig(join(dir, "slo.yaml"), { probing: false });
    const month = await prometheusMonthReport({
      config,
      source: { url: `${base}/inflower` },
      month: "2026-10",
      now: Date.now(),
    });
    expect(month.categories[0]!.latency_p99_bucket_ms).toEqual({ lower: 150, upper: 200 });
    expect(month.categories[0]!.latency_p99_ms).toBeCloseTo(199.5, 6);
  });

  it("reads no more than 4 MiB of one answer, and says the source answered (exit 2)", async () => {
    const run = await report("huge", "json");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\/huge: answered more than 4 MiB to one query .*: not read\n$/);
    expect(run.stderr).not.toContain("unreachable");
  }, 60_000);

  it("shows Prometheus' warnings (a partial answer) in the report and on stderr, without control characters", async () => {
    const run = await report("warned", "md");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("> **Prometheus warned:** partial response: store eu-2 down\\[2J");
    expect(run.stderr).toContain("Prometheus warned: partial response: store eu-2 down[2J\n");
    expect(run.stdout + run.stderr).not.toContain(ESC);
    // 20 kept of 25, and a line saying so.
    expect(run.stdout).toContain("> **Prometheus warned:** (and 5 more warnings, not shown)");
    expect(run.stdout).not.toContain("store 19 slow");
    // A partial answer does not pass the gate, whatever its figures say.
    await expectGateFails("warned", "Prometheus warned about its answers (see above)");
    await expectGateFails("vmpartial", "Prometheus warned: the answer is partial (isPartial: true)");
    // Its note on repairing out-of-order buckets is shown, and passes: the report bounds those itself.
    const repaired = await report("monowarn/upgraded", "md", ["--fail-on-miss"]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(
      "> **Prometheus noted:** PromQL warning: input to histogram\\_quantile needed",
    );
    expect(repaired.stdout).not.toContain("Prometheus warned");
    // As Prometheus 2.48 to 2.5x words it, too.
    const older = await report("monowarn248/upgraded", "json", ["--fail-on-miss"]);
    expect(older.code, older.stderr).toBe(0);
    expect(older.stderr).toContain("Prometheus noted: PromQL info: input to histogram_quantile");
    // Recognised before the token is scrubbed: a token sharing 8 characters with its wording
    // (its link names prometheus.io) does not turn the note into a warning.
    const worded = await report("monowarn/upgraded", "json", ["--fail-on-miss"], "prometheus-readonly-token");
    expect(worded.code, worded.stderr).toBe(0);
    expect(worded.stderr).toContain("Prometheus noted: PromQL warning: input to histogram_quantile");
    // Only that note, word for word: anything joined to it is a warning, and fails the gate.
    await expectGateFails("monopartial/upgraded", "Prometheus warned about its answers (see above)");
  }, 60_000);

  it("a p99 inside its bucket still reports (exit 0)", async () => {
    const run = await report("sound", "json");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).categories[0].latency_p99_ms).toBeCloseTo(199.5, 6);
  }, 60_000);

  it("strips the invisible characters of a remote label by Unicode class, not by a list", async () => {
    const run = await report("invisible", "md");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\| eu \|/);
    for (const point of [0x2060, 0x200c, 0x200d, 0xad, 0x3164, 0x115f, 0xfe0f, 0x34f, 0x180e, 0xfff9])
      expect(run.stdout).not.toContain(String.fromCodePoint(point));
  }, 60_000);

  it("counts that are sound still report (exit 0)", async () => {
    const run = await report("ok", "json");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).categories[0].availability_pct).toBeCloseTo((100 / 101) * 100, 6);
  }, 60_000);

  it("says when Prometheus has no series of the agents at all (a wrong URL), and fails --fail-on-miss", async () => {
    const run = await report("empty", "md");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("> **No series:** Prometheus has no slo_probe_requests_total series");
    expect(run.stderr).toContain("no slo_probe_requests_total series of any configured category");
    const json = await report("empty", "json");
    expect(JSON.parse(json.stdout).source.found_series).toBe(false);
    expect((await report("ok", "json")).stdout).toContain('"found_series": true');
    await expectGateFails("empty", "no series of the agents in");
  }, 60_000);

  it("says when a probed category has no series while others have, and fails --fail-on-miss", async () => {
    const config = join(dir, "slo-two.yaml");
    writeFileSync(
      config,
      onePaymentCategoryConfig(1500).replace(
        "targets:",
        "  settlements: {title: Settlements, service_class: transaction_critical, latency_p99_ms: 6000}\ntargets:",
      ) + "  - {id: s, category: settlements, target: api, every: 30s, path: /s}\n",
    );
    const run = await report("sound", "md", ["--config", config]);
    expect(run.code, run.stderr).toBe(0);
    const why =
      'Prometheus counted no slo_probe_requests_total in 2026-10 of settlements (no series, or only zeros), which the configuration probes: "no traffic" there means no figures, not no failures.';
    expect(run.stdout).toContain(`> **No series:** ${why}`);
    expect(run.stderr).toContain(why);
    const json = JSON.parse((await report("sound", "json", ["--config", config])).stdout);
    expect(json.source.found_series).toBe(true);
    expect(json.source.probed_without_requests).toEqual(["settlements"]);
    const gate = await report("sound", "json", ["--config", config, "--fail-on-miss"]);
    expect(gate.code).toBe(1);
    expect(gate.stderr).toContain("no requests counted in 2026-10 of probed settlements (see above)");
    // Zero-valued series say no more than none: the configuration probes payment_request.
    await expectGateFails("zeros", "no requests counted in 2026-10 of probed payment_request (see above)");
    // Nor do excluded requests alone: they are outside the requests, so the category has no figures.
    await expectGateFails(
      "onlyexcluded",
      "no requests counted in 2026-10 of probed payment_request (see above)",
    );
  }, 60_000);

  it("never rounds a missed availability up onto its target in Markdown (98.9999 %, not 99.000 %)", async () => {
    const run = await report("nearly", "md");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("| **all regions** | 1000000.0 | 989999.0 | 0.0 | 98.9999 % |");
    expect(run.stdout).toContain("| | eu | 1000000.0 | 989999.0 | 0.0 | 98.9999 % |");
    expect(run.stdout).toContain("| transaction_critical | 1000000.0 | 989999.0 | 98.9999 % |");
    expect(run.stdout).toContain("99 %: **missed**");
    expect(run.stdout).not.toContain("99.000 %");
  }, 60_000);

  it("quotes a remote label's value in its messages, so the value cannot forge the label set", async () => {
    const refused = await report("quoted", "json");
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('region="eu\\", category=\\"payment_request\\", verdict=\\"MET"');
    expect(refused.stderr).not.toContain('region="eu", category="payment_request", verdict="MET"');
  }, 60_000);

  it("does not decode more than 1,000 distinct texts of one answer when a token is set (exit 2, naming the URL)", async () => {
    const run = await report("manyregions", "json", [], "s3cr3t-T0ken-abcdefghij-0123456789");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${base}/manyregions: answered more than 1000 distinct label values and warnings to one query (a few hundred are expected): not read`,
    );
  }, 60_000);

  it("never names labels outside its grouping, nor shows their values (exit 1)", async () => {
    const run = await report("splitlabels", "json", [], "an-unrelated-token-0000");
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("has 3 more labels (not shown), outside sum by (region, category, outcome)");
    for (const piece of ["s3cr3t-", "T0ken-a", "bcdefgh", "ij-0123", "456789"])
      expect(run.stderr).not.toContain(piece);
    // The same labels cut from the token itself spell it out between them: not read at all.
    const spelled = await report("splitlabels", "json", [], "s3cr3t-T0ken-abcdefghij-0123456789");
    expect(spelled.code, spelled.stderr).toBe(2);
    expect(spelled.stderr).toContain(
      "answered labels or warnings that between them spell out much of the bearer token: not read",
    );
  }, 60_000);

  it("never shows a number that spells out part of the bearer token (exit 2, naming the URL)", async () => {
    const run = await report("digits", "json", [], "s3cr3t-T0ken-abcdefghij-0123456789");
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      `${base}/digits: answered a value that repeats part of the bearer token: not read`,
    );
    expect(`${run.stdout}${run.stderr}`).not.toContain("01234567");
  }, 60_000);

  it("takes a monotonicity note naming a metric other than the agents' as a warning (round 17)", async () => {
    const run = await report("notepieces", "json", ["--fail-on-miss"], "s3cr3t_T0ken_abcdefghij_0123456789");
    expect(run.code, run.stderr).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).not.toContain("T0ken_a");
    expect(`${run.stdout}${run.stderr}`).not.toContain("Prometheus noted");
  }, 60_000);

  it("takes region names of digits and a note's long position as the server's text (round 18)", async () => {
    const token = "4815162342108675309271828";
    const regions = await report("digitregions", "json", [], token);
    expect(regions.code, regions.stderr).toBe(2);
    expect(regions.stdout).toBe("");
    const notes = await report("notepos", "json", ["--fail-on-miss"], token);
    expect(notes.code, notes.stderr).not.toBe(0);
    expect(`${notes.stdout}${notes.stderr}`).not.toContain("Prometheus noted");
    expect(`${notes.stdout}${notes.stderr}`).not.toContain("4815162342");
  }, 60_000);

  it("never shows warnings that spell out the bearer token between them (exit 2, naming the URL)", async () => {
    const run = await report("splitwarn", "json", [], "s3cr3t-T0ken-abcdefghij-0123456789");
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      `${base}/splitwarn: answered labels or warnings that between them spell out much of the bearer token: not read`,
    );
    expect(`${run.stdout}${run.stderr}`).not.toContain("T0ken-a");
  }, 60_000);

  it("never shows region names or other labels that spell out the bearer token between them (exit 2, naming the URL)", async () => {
    const run = await report("splitregions", "md", [], "s3cr3t-T0ken-abcdefghij-0123456789");
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      `${base}/splitregions: answered labels or warnings that between them spell out much of the bearer token: not read`,
    );
    expect(run.stdout).toBe("");
    for (const piece of ["T0ken-a", "bcdefgh", "ij-0123"]) expect(run.stderr).not.toContain(piece);
  }, 60_000);

  it("never shows the token written with an accent on each letter or partly %-encoded (round 15)", async () => {
    const token = "s3cr3t-T0ken-abcdefghij-0123456789";
    for (const prefix of ["accents", "percent"]) {
      const run = await report(prefix, "md", [], token);
      const out = `${run.stdout}${run.stderr}`.normalize("NFD").replace(/\p{Mn}/gu, "");
      expect(decodeURIComponent(out.replace(/%(?![0-9a-f]{2})/gi, "%25"))).not.toContain(token.slice(0, 8));
      for (let i = 0; i + 8 <= token.length; i++)
        expect(out.toLowerCase()).not.toContain(token.slice(i, i + 8).toLowerCase());
    }
  }, 60_000);

  it("shows no figure that spells out the token's hex or its digits across a decimal point (exit 2, nothing written)", async () => {
    for (const [prefix, token, form] of [
      ["hexsum", "3f9a0c7d2b8e41f6a5c09d3e7b1c2d4e5f6a7b8c", "3366396130633764"],
      ["dotdigits", "tok_86753090123456_abcXYZ", "8675309.0123456"],
    ]) {
      const run = await report(prefix!, "json", [], token);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain("in digits from the source's counts: not shown");
      expect(run.stderr).not.toContain(form);
    }
  }, 60_000);

  it("takes the configured category ids as its own words, whatever the token (no false refusal or lost category)", async () => {
    // "payment_request" holds "paymentr" of the first token once its letters are read alone, and
    // three-letter runs of it spell most of the second: an honest month must still report.
    for (const token of ["paymentrequest-ro-2026", "payment-request-ro"]) {
      const run = await report("ok", "json", [], token);
      expect(run.code, run.stderr).toBe(0);
      const row = JSON.parse(run.stdout).categories[0];
      expect(row.category).toBe("payment_request");
      expect(row.requests).toBe(101);
    }
  }, 60_000);

  it("shows no figure it works out that spells out part of the bearer token (exit 2, nothing written)", async () => {
    const run = await report("digitsum", "json", [], "tok_86753090123456_abcXYZ");
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      `${base}/digitsum: the report would spell out the bearer token (SLO_AGENT_PROMETHEUS_TOKEN) in digits from the source's counts: not shown`,
    );
    expect(run.stderr).not.toContain("86753090");
  }, 60_000);

  for (const [prefix, why] of [
    [
      "manytexts",
      "answered more than 5000 distinct label names and values to one query (a few hundred are expected): not read",
    ],
    ["manylabels", "answered a series with more than 32 labels (sum by (...) gives a few): not read"],
    [
      "manyseries",
      "answered 60000 series to one query (a few per category, region and bucket are expected): not read",
    ],
  ]) {
    it(`counts an answer's series and labels before reading them: ${prefix} (exit 2, naming the URL)`, async () => {
      const run = await report(prefix!, "json");
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`${base}/${prefix}: ${why}`);
    }, 60_000);
  }

  it("never shows the bearer token, whole, base64-encoded or cut, when a proxy echoes it back", async () => {
    const token = "s3cr3t-T0ken-abcdefghij-0123456789";
    const forms = [
      token,
      Buffer.from(token).toString("base64"),
      Buffer.from(`Bearer ${token}`).toString("base64"),
    ];
    const warned = await report("echowarn", "md", [], token);
    expect(warned.stdout).toContain("**Prometheus warned:** partial answer for Bearer \\[redacted\\]");
    expect(warned.stderr).toContain("Prometheus warned: partial answer for Bearer [redacted]");
    const refused = await report("echoerror", "json", [], token);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("query refused: xxxxxxxx");
    expect(warned.stderr).toContain("Prometheus warned: cut [redacted]");
    for (const out of [warned.stdout, warned.stderr, refused.stdout, refused.stderr]) {
      for (const form of forms) expect(out).not.toContain(form.slice(0, 12));
      // No run of 8 of its characters, whatever was slipped inside or however it was written.
      for (let i = 0; i + 8 <= token.length; i++) {
        expect(out.toLowerCase()).not.toContain(token.slice(i, i + 8).toLowerCase());
      }
    }
  }, 60_000);

  it("prints no control character of a remote label or error, and escapes the label in Markdown", async () => {
    const refused = await report("escape", "md");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("query refused: ]0;owned\\[2Jgonedesrever");
    expect(refused.stderr).not.toContain(ESC);
    expect(refused.stderr).not.toContain("\u202E");
    for (const invisible of ["\u2028", "\u200B", "\uFEFF", "\u{E0041}"])
      expect(refused.stderr).not.toContain(invisible);
    const labelled = await report("label", "md");
    expect(labelled.code, labelled.stderr).toBe(0);
    expect(labelled.stdout).not.toContain(ESC);
    expect(labelled.stdout).not.toContain("<b>");
    expect(labelled.stdout).toContain("eu\\[31m\\|&lt;b&gt;x&lt;/b&gt;");
  }, 60_000);
});
