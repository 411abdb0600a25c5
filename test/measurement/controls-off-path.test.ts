import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import {
  answeringThenHanging,
  answeringThenHangingOn,
  cleanUp,
  configFor,
  report,
  runAgent,
  seriesValue,
  workDir,
} from "./agent-runs.js";

/**
 * Contract section 14, controls (attack 24d finding 1): a control must be off the provider's
 * network path. One on the provider's own host and port fails with the provider and turned a
 * provider outage into merchant_side. `slo-agent check-config` and `run` refuse one the
 * configuration names; one that reaches the provider's address under a DNS alias (which no
 * configuration check can see) is no witness for that provider's failures.
 */

afterAll(cleanUp);

const MERCHANT = 'reason="merchant_side"';

/** A name /etc/hosts gives 127.0.0.1 besides localhost (a DNS alias of the loopback host), if any. */
function loopbackAlias(): string | null {
  let hosts = "";
  try {
    hosts = readFileSync("/etc/hosts", "utf8");
  } catch {
    return null;
  }
  for (const line of hosts.split("\n")) {
    const [ip, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (ip !== "127.0.0.1") continue;
    const alias = names.find((n) => n !== "" && !/(^|\.)localhost$/i.test(n) && /^[a-z0-9.-]+$/i.test(n));
    if (alias) return alias;
  }
  return null;
}

describe.concurrent("controls off the provider's path (contract section 14)", { timeout: 150_000 }, () => {
  for (const spelling of [
    "127.0.0.1",
    "localhost",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",
    "127.0.0.2",
    "127.255.255.254",
    "[::1]",
  ])
    it(`check-config and run refuse a control at the provider's host and port written ${spelling}`, () => {
      const provider = "http://127.0.0.1:18690";
      const config = configFor({ provider, controls: [provider.replace("127.0.0.1", spelling)] });
      const dir = workDir(config);
      for (const command of [
        ["check-config", "--config", "slo.yaml"],
        ["run", "--config", "slo.yaml"],
      ]) {
        const out = slo(command, dir);
        expect(out.code, `${command[0]}: ${out.stdout}${out.stderr}`).toBe(2);
        expect(out.stderr).toMatch(
          /slo\.yaml:\d+:\d+: controls\[0\]\.url: names the host and port of target "api" \(127\.0\.0\.1:18690\), which probe "payment-request-read" uses: a control must be a neutral endpoint off the provider's network path/,
        );
      }
      // Another port of the same host is another endpoint: accepted, with a warning (the same machine).
      const other = workDir(configFor({ provider, controls: ["http://localhost:18691"] }));
      const checked = slo(["check-config", "--config", "slo.yaml"], other);
      expect(checked.code, checked.stderr).toBe(0);
      expect(`${checked.stdout}${checked.stderr}`).toMatch(
        /controls\[0\]\.url: warning: is on the host of target "api" \(127\.0\.0\.1:18690\), which probe "payment-request-read" uses, on another port: accepted, but if the provider's host or process fails/,
      );
    });

  // This machine's own LAN address reaches a provider listening on all addresses, as 127.0.0.1 does.
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === "IPv4")?.address;
  it.skipIf(lan === undefined)(
    `check-config refuses a control at this machine's own address (${lan}) and the provider's port (attack 24f)`,
    () => {
      const config = configFor({ provider: "http://127.0.0.1:18690", controls: [`http://${lan}:18690`] });
      const out = slo(["check-config", "--config", "slo.yaml"], workDir(config));
      expect(out.code, `${out.stdout}${out.stderr}`).toBe(2);
      expect(out.stderr).toMatch(
        /controls\[0\]\.url: names the host and port of target "api" \(127\.0\.0\.1:18690\)/,
      );
    },
  );

  it("a control on another port of the provider's host may witness its hang, and every report format says so (attack 24f)", async () => {
    // One process, two ports: the provider's and the control's; it answers, then hangs on both.
    const [provider, control] = await answeringThenHangingOn(2, 6);
    const config = configFor({ provider: provider!, controls: [control!] }).replace(
      "timeout_ms: 10000",
      "timeout_ms: 900",
    );
    const run = await runAgent(
      config,
      (m) => (seriesValue(m, "slo_probe_automatic_exclusions_total", MERCHANT) ?? 0) >= 3,
    );
    const json = JSON.parse(report(run.dir));
    // Accepted (another port is another endpoint), so the hang is the merchant's -- but not silently.
    expect(json.categories[0].excluded).toBeGreaterThanOrEqual(3);
    const said =
      /control "c0" reached the host that probe "payment-request-read" reached, on another port, and witnessed failures of that probe as merchant-side/;
    expect(
      json.warnings.filter((w: string) => said.test(w)),
      JSON.stringify(json.warnings),
    ).toHaveLength(1);
    const q = '(?:"|""|&quot;)';
    const named = new RegExp(
      `control ${q}c0${q} reached the host that probe ${q}payment-request-read${q} reached, on another port`,
    );
    for (const format of ["markdown", "html", "csv"]) expect(report(run.dir, format), format).toMatch(named);
  });

  const alias = loopbackAlias();
  it.skipIf(alias === null)(
    `a control reaching the provider's address under a DNS alias (${alias}) witnesses none of its hang`,
    async () => {
      // One server is both: it answers its first requests (the control's and the provider's), then hangs.
      const provider = await answeringThenHanging(6);
      const control = provider.replace("127.0.0.1", alias!);
      const config = configFor({ provider, controls: [control] }).replace(
        "timeout_ms: 10000",
        "timeout_ms: 900",
      );
      const run = await runAgent(
        config,
        (m) =>
          (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) +
            (seriesValue(m, "slo_probe_automatic_exclusions_total", MERCHANT) ?? 0) >=
          5,
      );
      expect(seriesValue(run.metrics, "slo_probe_automatic_exclusions_total", MERCHANT)).toBeNull();
      const json = JSON.parse(report(run.dir));
      expect(json.automatic_exclusions).toEqual([]);
      const category = json.categories[0];
      expect(category.excluded).toBe(0);
      expect(category.requests - category.successful).toBeGreaterThanOrEqual(5);
      // Not silent (attack 24e): the report names the control it ignored and the probe, in every format.
      const said =
        /control "c0" reached an address that probe "payment-request-read" reached or tried \(the provider's host under another name\), so it witnessed none of that probe's failures/;
      expect(json.warnings.filter((w: string) => said.test(w))).toHaveLength(1);
      // Quoted as each format quotes: HTML escapes the quotes, CSV doubles them.
      const q = '(?:"|""|&quot;)';
      const named = new RegExp(
        `control ${q}c0${q} reached an address that probe ${q}payment-request-read${q} reached or tried`,
      );
      for (const format of ["markdown", "html", "csv"])
        expect(report(run.dir, format), format).toMatch(named);
    },
  );
});
