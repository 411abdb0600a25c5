import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import {
  answering,
  cleanUp,
  closedPort,
  configFor,
  onCleanup,
  report,
  runAgent,
  seriesValue,
  workDir,
} from "../measurement/agent-runs.js";
import { slo } from "../reports/cli-run.js";

/**
 * Attack 24c finding 5: a maintenance feed the agent could never read left no mark; the report
 * said "No maintenance windows in this month" as if the provider had announced none. The real
 * agent (`slo-agent run`, its real SQLite store) against a feed port that refuses connections,
 * restarted while it still does, then once more with the feed answering; `slo-agent report`.
 */

afterAll(cleanUp);

const FEED_READABLE = "slo_maintenance_feed_readable";

function withFeed(config: string, feed: string): string {
  return config.replace("targets:", `maintenance:\n  feed: {url: "${feed}", every: 1m}\ntargets:\n`);
}

async function statuspageOn(port: number): Promise<void> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"scheduled_maintenances":[]}');
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
}

it("a feed that cannot be read is in the log, /metrics and every report format, across a restart, until it is read again", {
  timeout: 180_000,
}, async () => {
  const feed = await closedPort();
  const config = withFeed(configFor({ provider: await answering(503) }), feed);
  const dir = workDir(config);
  const probed = (m: string) => (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) >= 2;

  const first = await runAgent(config, (m) => probed(m) && seriesValue(m, FEED_READABLE) !== null, { dir });
  expect(seriesValue(first.metrics, FEED_READABLE)).toBe(0);
  const json = JSON.parse(report(dir));
  const line = (json.warnings as string[]).find((w) => w.startsWith("the maintenance feed"));
  expect(line).toMatch(
    new RegExp(
      `^the maintenance feed ${feed}/ could not be read from \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z to the end of what the log holds \\(still unreadable at its last record\\) \\(1 attempt, first: .*ECONNREFUSED.*\\): windows it announced then are not known to this report\\.$`,
    ),
  );
  for (const format of ["md", "html", "csv"])
    expect(report(dir, format)).toContain(`the maintenance feed ${feed}/ could not be read`);

  // Restarted while the feed still refuses: the stretch goes on (one record, more attempts).
  await runAgent(config, (m) => probed(m) && seriesValue(m, FEED_READABLE) !== null, { dir });
  // Then the feed answers: the stretch ends at that reading.
  await statuspageOn(Number(new URL(feed).port));
  const third = await runAgent(config, (m) => probed(m) && seriesValue(m, FEED_READABLE) === 1, { dir });
  expect(seriesValue(third.metrics, FEED_READABLE)).toBe(1);
  const warnings = (JSON.parse(report(dir)).warnings as string[]).filter((w) =>
    w.startsWith("the maintenance feed"),
  );
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    /could not be read from (\S+Z) to (\S+Z) \(2 attempts, first: .*ECONNREFUSED.*\): windows it announced then are not known/,
  );
  const [, from, to] = /from (\S+Z) to (\S+Z)/.exec(warnings[0]!)!;
  expect(Date.parse(to!)).toBeGreaterThan(Date.parse(from!));
  // The records are signed input records like any other: the store verifies, and so does a bundle.
  const verify = slo(["verify"], dir);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  const month = new Date().toISOString().slice(0, 7);
  expect(slo(["evidence", "export", "--month", month, "--out", "bundle"], dir).code).toBe(0);
  const bundled = slo(["verify", "--bundle", "bundle"], dir);
  expect(bundled.code, bundled.stdout + bundled.stderr).toBe(0);
  expect(readFileSync(join(dir, "bundle", "inputs.ndjson"), "utf8")).toContain('"kind":"feed_reachability"');
});

it("a feed that is read leaves no such warning and /metrics says 1", { timeout: 120_000 }, async () => {
  const feed = await closedPort();
  await statuspageOn(Number(new URL(feed).port));
  const config = withFeed(configFor({ provider: await answering(200) }), feed);
  const run = await runAgent(
    config,
    (m) =>
      (seriesValue(m, "slo_probe_requests_total", 'outcome="served"') ?? 0) >= 1 &&
      seriesValue(m, FEED_READABLE) !== null,
  );
  expect(seriesValue(run.metrics, FEED_READABLE)).toBe(1);
  const warnings = (JSON.parse(report(run.dir)).warnings ?? []) as string[];
  expect(warnings.filter((w) => w.includes("maintenance feed"))).toEqual([]);
});
