import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sleep } from "../export/live-processes.js";
import {
  answeringThenDown,
  answeringThenHanging,
  cleanUp,
  closedPort,
  configFor,
  report,
  runAgent,
  seriesValue,
  workDir,
} from "./agent-runs.js";

/**
 * Contract section 14, unreached targets, end to end: `slo-agent run` as a child process against
 * a closed loopback port, a host name that does not exist and a real server that answers and then
 * goes down, with the evidence in its real SQLite store, then `slo-agent report` over it.
 */

afterAll(cleanUp);

const UNREACHED = 'reason="target_unreached"';
const PROBE = 'probe="payment-request-read"';

interface Episode {
  readonly reason: string;
  readonly requests: number;
  readonly evidence: { readonly failures?: readonly { readonly detail: string }[] };
}

/** The agent's /status page, fetched while it runs. */
async function statusOf(url: string): Promise<string> {
  return fetch(`${url}/status`).then((r) => r.text());
}

describe.concurrent("unreached targets (contract section 14)", { timeout: 150_000 }, () => {
  for (const [name, target] of [
    ["a closed port", closedPort],
    ["a host name that does not exist", async () => "http://slo-agent-test.invalid"],
  ] as const) {
    it(`${name} that never answered: 0 provider failures, target_unreached everywhere`, async () => {
      let status = "";
      const run = await runAgent(
        configFor({ provider: await target() }),
        (m) =>
          (seriesValue(m, "slo_probe_automatic_exclusions_total", UNREACHED) ?? 0) >= 3 &&
          seriesValue(m, "slo_probe_valid", PROBE) !== null,
        {
          during: async (url) => {
            // /status shows it once the first failure is in.
            for (let i = 0; i < 100 && !status.includes("target_unreached"); i++) {
              await new Promise((resolve) => setTimeout(resolve, 100));
              status = await statusOf(url);
            }
          },
        },
      );
      expect(seriesValue(run.metrics, "slo_probe_valid", PROBE)).toBe(0);
      expect(seriesValue(run.metrics, "slo_probe_requests_total", 'outcome="failed"')).toBeNull();
      expect(status).toMatch(/payment-request-read<\/b> \(payment_request\): target_unreached/);

      const json = JSON.parse(report(run.dir));
      const category = json.categories[0];
      const episodes = json.automatic_exclusions.filter((x: Episode) => x.reason === "target_unreached");
      const unreached = episodes.reduce((n: number, x: Episode) => n + x.requests, 0);
      expect(unreached).toBeGreaterThanOrEqual(3);
      // No request counts against the provider: nothing measured, so no figure either.
      expect(category.requests).toBe(0);
      expect(category.excluded).toBe(unreached);
      expect(category.availability_pct).toBeNull();
      expect(category.measurement_problems).toEqual([
        expect.objectContaining({ kind: "target_unreached", requests: unreached }),
      ]);
      expect(episodes[0].evidence.failures[0].detail).toMatch(/^payment-request-read: (connect|dns|timeout)/);
      expect(json.incidents).toEqual([]);
      expect(report(run.dir, "md")).toMatch(
        /target\\?_unreached: \d+ failures?, the probe's target never answered/,
      );
      expect(report(run.dir, "html")).toContain("target_unreached");
    });
  }

  it("a target that answered, then the agent restarts during its outage: the failures are the provider's", async () => {
    // Refusals come at once; a longer timeout keeps a loaded machine from turning one of the two
    // answers into a timeout.
    const config = configFor({ provider: await answeringThenDown(2) }).replace(
      "timeout_ms: 1000",
      "timeout_ms: 5000",
    );
    const first = await runAgent(
      config,
      (m) => (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) >= 1,
    );
    expect(seriesValue(first.metrics, "slo_probe_requests_total", 'outcome="served"')).toBe(2);
    // Restarted on the same store while the target is down: it remembers that it answered.
    const second = await runAgent(
      config,
      (m) =>
        (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) >= 3 &&
        seriesValue(m, "slo_probe_valid", PROBE) !== null,
      { dir: first.dir },
    );
    expect(seriesValue(second.metrics, "slo_probe_automatic_exclusions_total", UNREACHED)).toBeNull();
    expect(seriesValue(second.metrics, "slo_probe_valid", PROBE)).toBe(1);

    const category = JSON.parse(report(first.dir)).categories[0];
    expect(category.excluded).toBe(0);
    expect(category.successful).toBe(2);
    expect(category.requests).toBeGreaterThanOrEqual(6);
    expect(category.measurement_problems).toEqual([]);
  });

  // Attack 24b finding 4: a reload that changed only the probe's path and id during a hang hid
  // the rest of the outage as target_unreached.
  it("a target that answered, then hangs, and a reload renames the probe and changes its path: the timeouts are the provider's", async () => {
    const config = configFor({ provider: await answeringThenHanging(2) });
    const renamed = config
      .replace("id: payment-request-read,", "id: payment-request-read-v2,")
      .replace("path: /payments/v1/sessions/0", "path: /payments/v1/sessions/0?v=2");
    const RENAMED = 'probe="payment-request-read-v2"';
    const dir = workDir(config);
    const run = await runAgent(
      config,
      // slo_probe_valid is published on the agent's refresh (every 5 s), which a loaded machine
      // may not have reached by the renamed probe's third failure.
      (m) =>
        (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"', RENAMED) ?? 0) >= 3 &&
        seriesValue(m, "slo_probe_valid", RENAMED) !== null,
      {
        dir,
        during: async (url, agent) => {
          // The reload comes once the hang has begun.
          for (let i = 0; i < 200; i++) {
            const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
            if ((seriesValue(metrics, "slo_probe_requests_total", 'outcome="failed"', PROBE) ?? 0) >= 1)
              break;
            await sleep(100);
          }
          writeFileSync(join(dir, "slo.yaml"), renamed);
          agent.child.kill("SIGHUP");
        },
      },
    );
    expect(seriesValue(run.metrics, "slo_probe_automatic_exclusions_total", UNREACHED)).toBeNull();
    expect(seriesValue(run.metrics, "slo_probe_valid", RENAMED)).toBe(1);

    const json = JSON.parse(report(run.dir));
    const category = json.categories[0];
    expect(json.automatic_exclusions).toEqual([]);
    expect(category.excluded).toBe(0);
    expect(category.successful).toBe(2);
    expect(category.requests).toBeGreaterThanOrEqual(6);
  });

  // Attack 24c finding 3: a reload to an alias of the host (127.0.0.1 -> localhost) during a
  // connection-refused outage hid the rest of it as target_unreached, though the refusal named
  // the very address that had answered.
  // Attack 24d finding 5: other spellings of the address that answered (IPv4-mapped IPv6, the
  // unspecified address Linux connects to the local host) hid it too, compared as strings.
  for (const alias of ["localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "127.0.0.2"])
    it(`a target that answered, then refuses connections, and a reload names its host as ${alias}: the refusals are the provider's`, async () => {
      const provider = await answeringThenDown(2);
      // A refused connect names its address; one still looking up or connecting at the deadline names
      // none (docs/sla-arithmetic.md): a longer timeout keeps a loaded machine from making that case.
      const config = configFor({ provider }).replace("timeout_ms: 1000", "timeout_ms: 5000");
      const aliased = config.replace(provider, provider.replace("127.0.0.1", alias));
      expect(aliased).not.toBe(config);
      const dir = workDir(config);
      let reloadedAt = 0;
      const run = await runAgent(
        config,
        (m) =>
          reloadedAt > 0 &&
          (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) +
            (seriesValue(m, "slo_probe_automatic_exclusions_total", UNREACHED) ?? 0) >=
            reloadedAt + 3,
        {
          dir,
          during: async (url, agent) => {
            // The reload comes once the refusals have begun.
            for (let i = 0; i < 200; i++) {
              const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
              const failed = seriesValue(metrics, "slo_probe_requests_total", 'outcome="failed"', PROBE) ?? 0;
              if (failed >= 1) {
                reloadedAt = failed;
                break;
              }
              await sleep(100);
            }
            writeFileSync(join(dir, "slo.yaml"), aliased);
            agent.child.kill("SIGHUP");
          },
        },
      );
      expect(reloadedAt).toBeGreaterThan(0);
      expect(seriesValue(run.metrics, "slo_probe_automatic_exclusions_total", UNREACHED)).toBeNull();
      expect(seriesValue(run.metrics, "slo_probe_valid", PROBE)).toBe(1);

      const json = JSON.parse(report(run.dir));
      const category = json.categories[0];
      expect(json.automatic_exclusions).toEqual([]);
      expect(category.excluded).toBe(0);
      // The target answered twice; on a loaded machine the second answer can be cut by the server's
      // close (a failure, counted). What matters: nothing after the reload is excluded.
      expect(category.successful).toBeGreaterThanOrEqual(1);
      expect(category.successful).toBeLessThanOrEqual(2);
      expect(category.requests).toBeGreaterThanOrEqual(category.successful + reloadedAt + 3);
      expect(category.measurement_problems).toEqual([]);
    });

  it("a target that answered, then refuses connections, and the agent restarts naming its host by an alias: the refusals are the provider's", async () => {
    const provider = await answeringThenDown(2);
    // A refused connect names its address; one still looking up or connecting at the deadline names
    // none (docs/sla-arithmetic.md): a longer timeout keeps a loaded machine from making that case.
    const config = configFor({ provider }).replace("timeout_ms: 1000", "timeout_ms: 5000");
    const first = await runAgent(
      config,
      (m) => (seriesValue(m, "slo_probe_requests_total", 'outcome="served"') ?? 0) >= 2,
    );
    // Restarted under the alias while the target is down: the store says its address answered.
    writeFileSync(
      join(first.dir, "slo.yaml"),
      config.replace(provider, provider.replace("127.0.0.1", "localhost")),
    );
    const second = await runAgent(
      config,
      (m) =>
        (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) +
          (seriesValue(m, "slo_probe_automatic_exclusions_total", UNREACHED) ?? 0) >=
          3 && seriesValue(m, "slo_probe_valid", PROBE) !== null,
      { dir: first.dir },
    );
    const json = JSON.parse(report(first.dir));
    expect(
      seriesValue(second.metrics, "slo_probe_automatic_exclusions_total", UNREACHED),
      JSON.stringify(json.automatic_exclusions),
    ).toBeNull();
    expect(seriesValue(second.metrics, "slo_probe_valid", PROBE)).toBe(1);
    const category = json.categories[0];
    expect(category.excluded).toBe(0);
    expect(category.measurement_problems).toEqual([]);
  });
});
