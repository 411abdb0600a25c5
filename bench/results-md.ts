import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { type Figure, type Figures, rangeOf } from "./figures.js";

/** How the figures were taken: when, how many runs (each figure is their median), the load average. */
export interface RunInfo {
  readonly startedAt: Date;
  readonly quick: boolean;
  readonly runs: number;
  /** The load average when the first run started and when each run ended. */
  readonly loads: readonly number[];
  /** The machine the runs were taken on (thisMachine()); "not recorded" for runs saved without it. */
  readonly machine: string;
}

/** This machine, as bench/results.md names it: the figures are only comparable on the same one. */
export function thisMachine(): string {
  return `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform}`;
}

/**
 * bench/results.md: the machine, the side-by-side table against blackbox_exporter with the
 * issue's targets as ratios, and every other figure, grouped by bench.
 */
export function resultsMarkdown(figures: readonly Figures[], run: RunInfo): string {
  const { startedAt, quick, runs, loads, machine } = run;
  const flags = [quick ? "--quick" : "", runs > 1 ? `--runs ${runs}` : ""].filter((f) => f !== "");
  const [first, ...ends] = loads.length > 0 ? loads : [loadavg()[0]!];
  const load =
    ends.length === 0
      ? `${first!.toFixed(1)} when it ended`
      : `${first!.toFixed(1)} when the first run started, ${ends.map((l) => l.toFixed(1)).join(" / ")} when each run ended`;
  const lines = [
    "# Benchmark results",
    "",
    `Written by \`npm run bench${flags.length > 0 ? ` -- ${flags.join(" ")}` : ""}\` on ${startedAt.toISOString()}. Figures, never assertions.${
      runs > 1
        ? ` Each figure is the median of ${runs} runs, alternated (every bench once, then every bench again); under "Every figure" a number's range over the runs follows it in brackets.`
        : ""
    }`,
    "",
    `Machine: ${machine}; load average ${load} (figures from a busy machine are not comparable).`,
    "",
    ...sideBySide(figures),
    ...boundsSection(),
    "## Every figure",
    "",
  ];
  const benches = [...new Set(figures.map((f) => f.bench))];
  for (const bench of benches) {
    const rows = figures.filter((f) => f.bench === bench);
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== "bench")))];
    lines.push(`### ${bench}`, "", `| ${keys.join(" | ")} |`, `|${" --- |".repeat(keys.length)}`);
    for (const row of rows) lines.push(`| ${keys.map((k) => withRange(row, k)).join(" | ")} |`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

/** bench/bounds.md: what the profiles say bounds the targets not met; kept by hand, copied in. */
function boundsSection(): string[] {
  const file = join(import.meta.dirname, "bounds.md");
  return existsSync(file) ? [readFileSync(file, "utf8").trimEnd(), ""] : [];
}

/** A figure with its range over the runs in brackets, when the runs differed. */
function withRange(row: Figures, key: string): string {
  const range = rangeOf(row, key);
  return range && range[0] !== range[1] ? `${cell(row[key])} [${range[0]}–${range[1]}]` : cell(row[key]);
}

function cell(value: Figure | undefined): string {
  if (value === undefined || value === null) return "–";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

const DESIGN_FLOOR =
  " The design floor (bench/peers/design-floor.ts) adds to the bare floor what issue 24 and contract sections 7 and 13 make any conforming agent do, and nothing else: probing from a thread of its own, and each result appended to a SHA-256 chain in SQLite (WAL, `synchronous = FULL`) in 200 ms batches, each committed with an Ed25519-signed checkpoint.";

function sideBySide(figures: readonly Figures[]): string[] {
  const all = (bench: string) => figures.filter((f) => f.bench === bench);
  const peer = figures.find((f) => f.bench === "compare.peer")?.blackbox_exporter ?? "not run";
  const rows: string[][] = [];
  const floorAt = (rate: Figure) => all("compare.floor").find((f) => f.rate_per_s === rate);
  for (const f of all("compare.cpu_per_probe")) {
    const floor = floorAt(f.rate_per_s);
    rows.push([
      `CPU per probe, ${f.rate_per_s}/s, reused connections (ms)`,
      cell(f.agent_reuse_ms),
      cell(floor?.undici_reuse_ms),
      cell(f.blackbox_ms),
      cell(f.ratio_reuse),
      "<= 0.25 (issue 17)",
    ]);
    rows.push([
      `CPU per probe, ${f.rate_per_s}/s, fresh connections (ms)`,
      cell(f.agent_fresh_ms),
      cell(floor?.undici_fresh_ms),
      cell(f.blackbox_ms),
      cell(f.ratio_fresh),
      "<= 0.5 (issue 17)",
    ]);
  }
  // Issue 30 item 1: the agent's CPU per probe against the bare-undici floor at the same rate.
  for (const f of all("compare.floor")) {
    rows.push([
      `CPU per probe over the floor, ${f.rate_per_s}/s, reused / fresh connections (x)`,
      `${cell(f.agent_over_floor_reuse)} / ${cell(f.agent_over_floor_fresh)}`,
      "1 / 1",
      "",
      "",
      f.rate_per_s === 200 ? "<= 1.25x the floor (issue 30)" : "no worse than before (issue 30)",
    ]);
  }
  // Issue 30: the floor under the design (a probing thread and signed evidence, bench/peers/design-floor.ts).
  for (const f of all("compare.design_floor")) {
    rows.push([
      `design floor: CPU per probe, ${f.rate_per_s}/s, reused / fresh connections (ms; x the bare floor)`,
      "",
      `${cell(f.design_reuse_ms)} / ${cell(f.design_fresh_ms)} (${cell(f.design_over_floor_reuse)}x / ${cell(f.design_over_floor_fresh)}x)`,
      "",
      "",
      "the design's floor (issue 30)",
    ]);
    rows.push([
      `CPU per probe over the design floor, ${f.rate_per_s}/s, reused / fresh connections (x)`,
      `${cell(f.agent_over_design_reuse)} / ${cell(f.agent_over_design_fresh)}`,
      "1 / 1",
      "",
      "",
      "",
    ]);
  }
  for (const f of all("compare.overhead")) {
    rows.push([
      `overhead p50, ${f.rate_per_s}/s, reuse / fresh (ms)`,
      `${cell(f.agent_reuse_p50_ms)} / ${cell(f.agent_fresh_p50_ms)}`,
      "",
      cell(f.blackbox_p50_ms),
      "",
      "",
    ]);
    // Issue 24: blackbox_exporter opens a fresh connection per probe; the agent must not add more
    // overhead than it doing the same, and less when it reuses connections.
    rows.push([
      `overhead p99, ${f.rate_per_s}/s, fresh connections (ms)`,
      cell(f.agent_fresh_p99_ms),
      cell(f.undici_fresh_p99_ms),
      cell(f.blackbox_p99_ms),
      cell(f.ratio_p99_fresh),
      "<= 1.0 (issue 24)",
    ]);
    rows.push([
      `overhead p99, ${f.rate_per_s}/s, reused connections (ms)`,
      cell(f.agent_reuse_p99_ms),
      cell(f.undici_reuse_p99_ms),
      cell(f.blackbox_p99_ms),
      cell(f.ratio_p99_reuse),
      "<= 0.8 (issue 24)",
    ]);
  }
  for (const f of all("compare.agent_load")) {
    rows.push([
      `recorded p99 of a 1 ms target, 50 probes/s, agent load: ${f.load} (ms; agent_error, provider failures, runs/s, peak RSS MB)`,
      `${cell(f.recorded_p99_ms)} (${cell(f.agent_error)}, ${cell(f.provider_failures)}, ${cell(f.runs_per_s)}, ${cell(f.rss_peak_mb)})`,
      "",
      "",
      "",
      "< 25 ms, 0 provider failures (issue 24)",
    ]);
  }
  for (const f of all("compare.idle")) {
    rows.push([
      "idle cost, 13 probes every 30 s (CPU ms per s)",
      cell(f.agent_cpu_ms_per_s),
      cell(f.undici_floor_cpu_ms_per_s),
      cell(f.blackbox_cpu_ms_per_s),
      cell(f.ratio),
      "agent <= 1 ms/s (issue 17)",
    ]);
    if (f.design_floor_cpu_ms_per_s !== undefined)
      rows.push([
        "design floor: idle cost, 13 probes every 30 s, each result a signed, durable commit (CPU ms per s)",
        "",
        cell(f.design_floor_cpu_ms_per_s),
        cell(f.blackbox_cpu_ms_per_s),
        cell(f.design_floor_over_blackbox),
        "the design's floor (issue 30)",
      ]);
    rows.push([
      "RSS, 13 probes, `npx slo-agent run` (MB)",
      cell(f.agent_rss_mb),
      f.design_floor_rss_mb === undefined
        ? cell(f.undici_floor_rss_mb)
        : `${cell(f.undici_floor_rss_mb)}; design floor: ${cell(f.design_floor_rss_mb)}`,
      cell(f.blackbox_rss_mb),
      "",
      "<= 70 MB (issue 30)",
    ]);
  }
  const designIdle = all("compare.idle")[0]?.design_floor_cpu_ms_per_s;
  for (const f of all("compare.idle_scraped")) {
    rows.push([
      `idle cost, 13 probes every 30 s, a scrape every ${f.scrape_every_s} s; blackbox_exporter probing at each scrape (CPU ms per s${designIdle === undefined ? "" : "; the design floor serves no scrape"})`,
      cell(f.agent_cpu_ms_per_s),
      designIdle === undefined ? "" : `design floor: ${cell(designIdle)}`,
      cell(f.blackbox_cpu_ms_per_s),
      cell(f.ratio),
      "<= 1.5 (issue 30)",
    ]);
  }
  for (const f of all("compare.rss").filter((r) => r.probes !== 13)) {
    rows.push([
      `RSS, ${f.probes} probes every 30 s, \`npx slo-agent run\`, before / after five scrapes (MB)`,
      `${cell(f.agent_rss_before_scrapes_mb)} / ${cell(f.agent_rss_mb)}`,
      "",
      "",
      "",
      f.probes === 1000 ? "<= 100 MB after (issue 30)" : "",
    ]);
  }
  for (const f of all("compare.rss")) {
    rows.push([
      `/metrics, ${f.probes} probes (ms, median of five scrapes)`,
      cell(f.metrics_render_ms),
      "",
      "",
      "",
      f.probes === 1000 ? "<= 50 ms (issue 30)" : "",
    ]);
  }
  for (const f of all("compare.soak")) {
    rows.push([
      `RSS over a day's work compressed (${cell(f.runs)} runs, the shipped profile's day, and ${cell(f.scrapes)} scrapes, in ${cell(f.seconds)} s): after the first tenth / at the end (MB), growth`,
      `${cell(Array.isArray(f.rss_by_tenth_mb) ? f.rss_by_tenth_mb[0] : null)} / ${cell(f.rss_end_mb)}, ${cell(f.growth_pct)} %`,
      "",
      "",
      "",
      "growth < 10 % (issue 30)",
    ]);
  }
  for (const f of all("report.cli_path")) {
    // The floor column holds the report floor here (bench/peers/report-floor.ts): only what
    // contract section 7 requires, every record re-hashed and the links checked, on one core.
    const floor = all("report.floor").find((r) => r.results === f.results);
    rows.push([
      `verified report of a month, ${cell(f.results)} results, in process (s; CPU s)${floor ? "; floor: the report floor (s)" : ""}`,
      `${cell(f.seconds)}; ${cell(f.cpu_seconds)}`,
      floor ? cell(floor.seconds) : "",
      "",
      "",
      Number(f.results) >= 3_400_000 ? "<= 5 s (issue 30)" : "",
    ]);
  }
  for (const f of all("compare.start")) {
    rows.push([
      "start to listening / to first probe, `npx slo-agent run` (ms)",
      `${cell(f.listening_ms)} / ${cell(f.first_probe_ms)}`,
      "",
      "",
      "",
      "first probe <= 1000 ms (issue 30)",
    ]);
  }
  for (const f of all("compare.rss").filter((r) => r.agent_rss_optimize_for_size_mb !== undefined)) {
    rows.push([
      `RSS, ${f.probes} probes every 30 s, node --optimize-for-size as in the container (MB)`,
      cell(f.agent_rss_optimize_for_size_mb),
      "",
      "",
      "",
      f.probes === 1000 ? "<= 100 MB (issue 17)" : "",
    ]);
  }
  if (rows.length === 0) return [];
  return [
    `## Side by side with blackbox_exporter ${peer}`,
    "",
    `Same loopback target answering after 20 ms, same rates; each tool's own CPU and RSS from /proc; the driver and the target run in processes of their own. The floor is bare undici (the agent's HTTP client) in a Node.js process that only sends the same requests at the same rate and spread (bench/peers/floor.ts): what any Node.js prober pays on this machine. Ratios are slo-agent / blackbox_exporter.${all("compare.design_floor").length > 0 ? DESIGN_FLOOR : ""}`,
    "",
    "| figure | slo-agent | floor: bare undici | blackbox_exporter | ratio | target |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
  ];
}
