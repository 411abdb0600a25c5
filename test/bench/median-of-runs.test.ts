import { describe, expect, it } from "vitest";
import { medianOfRuns, rangeOf } from "../../bench/figures.js";
import { resultsMarkdown } from "../../bench/results-md.js";

// bench/results.md takes each figure as the median of alternated runs (issue 30 item 6): a busy
// minute in one run must not set a figure, and the spread must be shown beside it.
describe("bench figures over several runs", () => {
  const run = (cpu: number, p99: number, fresh: number | null) => [
    { bench: "compare.floor", rate_per_s: 200, agent_over_floor_reuse: cpu, agent_over_floor_fresh: fresh },
    { bench: "compare.overhead", rate_per_s: 200, agent_reuse_p99_ms: p99 },
    { bench: "compare.overhead", rate_per_s: 50, agent_reuse_p99_ms: p99 * 2 },
    { bench: "compare.peer", blackbox_exporter: "0.23.0" },
  ];

  it("takes each number's median across runs, row by row, and keeps its range", () => {
    const merged = medianOfRuns([run(1.6, 2, 1.3), run(9.9, 1, null), run(1.4, 3, 1.2)]);
    expect(merged.map((f) => f.bench)).toEqual([
      "compare.floor",
      "compare.overhead",
      "compare.overhead",
      "compare.peer",
    ]);
    expect(merged[0]!.agent_over_floor_reuse).toBe(1.6);
    expect(rangeOf(merged[0]!, "agent_over_floor_reuse")).toEqual([1.4, 9.9]);
    // A run that gave no number does not count as one: the median of the two that did.
    expect(merged[0]!.agent_over_floor_fresh).toBeCloseTo(1.25, 10);
    expect(merged[1]!.agent_reuse_p99_ms).toBe(2);
    expect(merged[2]!.agent_reuse_p99_ms).toBe(4);
    expect(merged[2]!.rate_per_s).toBe(50);
    expect(rangeOf(merged[2]!, "rate_per_s")).toEqual([50, 50]);
    expect(merged[3]!.blackbox_exporter).toBe("0.23.0");
  });

  it("writes the median in the table, the range beside it under every figure, and each run's load", () => {
    const merged = medianOfRuns([run(1.6, 2, 1.3), run(9.9, 1, 1.3), run(1.4, 3, 1.3)]);
    const md = resultsMarkdown(merged, {
      startedAt: new Date("2026-12-07T04:00:00Z"),
      quick: false,
      runs: 3,
      loads: [0.2, 0.4, 0.3, 0.5],
      machine: "2 x Intel(R) Xeon(R) Processor, 23.6 GiB, Node v20.20.2, linux",
    });
    expect(md).toContain("`npm run bench -- --runs 3`");
    expect(md).toContain("median of 3 runs");
    expect(md).toContain("0.2 when the first run started, 0.4 / 0.3 / 0.5 when each run ended");
    // The machine the runs were taken on, not the one rendering them (`--render` on another box).
    expect(md).toContain(
      "Machine: 2 x Intel(R) Xeon(R) Processor, 23.6 GiB, Node v20.20.2, linux; load average",
    );
    expect(md).toContain(
      "| CPU per probe over the floor, 200/s, reused / fresh connections (x) | 1.6 / 1.3 |",
    );
    expect(md).toContain("| 200 | 1.6 [1.4–9.9] | 1.3 |");
  });

  // Issue 30: a target not met shows the floor that bounds it; the design floor (a probing thread
  // and signed, durable evidence) must sit beside the agent in the same table.
  it("shows the design floor beside the agent at each rate and in the idle profile", () => {
    const md = resultsMarkdown(
      medianOfRuns([
        [
          {
            bench: "compare.design_floor",
            rate_per_s: 200,
            design_reuse_ms: 0.58,
            design_fresh_ms: 1.15,
            design_over_floor_reuse: 1.08,
            design_over_floor_fresh: 1.05,
            agent_over_design_reuse: 1.95,
            agent_over_design_fresh: 1.49,
          },
          {
            bench: "compare.idle",
            agent_cpu_ms_per_s: 6,
            blackbox_cpu_ms_per_s: 1.5,
            undici_floor_rss_mb: 58,
            design_floor_cpu_ms_per_s: 2.2,
            design_floor_rss_mb: 78.7,
            design_floor_over_blackbox: 1.47,
          },
          {
            bench: "compare.idle_scraped",
            scrape_every_s: 15,
            agent_cpu_ms_per_s: 8,
            blackbox_cpu_ms_per_s: 2,
          },
        ],
      ]),
      { startedAt: new Date("2026-12-07T04:00:00Z"), quick: false, runs: 1, loads: [0.1, 0.1], machine: "m" },
    );
    expect(md).toContain("| 0.58 / 1.15 (1.08x / 1.05x) |");
    expect(md).toContain(
      "| CPU per probe over the design floor, 200/s, reused / fresh connections (x) | 1.95 / 1.49 |",
    );
    expect(md).toContain("| 58; design floor: 78.7 |");
    expect(md).toMatch(/a scrape every 15 s;[^|]*\| 8 \| design floor: 2.2 \| 2 \|/);
  });
});
