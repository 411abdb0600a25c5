import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadCommandContext } from "../../src/cli/context.js";
import { loadConfig, retargetForSimulator } from "../../src/config/index.js";
import { ConfigDirs, minimalSlo } from "./config-dir.js";

const dirs = new ConfigDirs();
afterEach(() => dirs.remove());

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

describe("the data directory of a command (contract section 2)", () => {
  it.each([
    [
      "--data-dir wins, relative to the working directory",
      "agent: {data_dir: ./evidence}\n",
      "cli-data",
      () => resolve("cli-data"),
    ],
    [
      "else agent.data_dir, relative to the config file",
      "agent: {data_dir: ./evidence}\n",
      undefined,
      (dir: string) => join(dir, "evidence"),
    ],
    ["else ./data in the working directory", "", undefined, () => resolve("data")],
  ])("%s", async (_rule, extra, dataDir, expected) => {
    const dir = await dirs.create({ "slo.yaml": minimalSlo({ extra }) });
    const stderr = capture();
    const context = await loadCommandContext({ config: join(dir, "slo.yaml"), dataDir }, stderr.stream);
    expect(context.dataDir).toBe(expected(dir));
  });

  it("prints warnings to stderr as FILE:LINE:COL: path: warning: message", async () => {
    const unprobed =
      "categories:\n  other: {title: Other, service_class: transaction_critical, latency_p99_ms: 1}\n";
    const dir = await dirs.create({ "slo.yaml": minimalSlo().replace("categories:\n", unprobed) });
    const stderr = capture();
    const context = await loadCommandContext({ config: join(dir, "slo.yaml") }, stderr.stream);
    expect(context.warnings).toHaveLength(1);
    expect(stderr.text()).toBe(
      `${join(dir, "slo.yaml")}:5:10: categories.other: warning: no probe measures this category\n`,
    );
  });
});

describe("retargetForSimulator points every target at the simulator", () => {
  it("rewrites base URL, environment and auth of every target and keeps the rest", async () => {
    const { config } = await loadConfig(join(import.meta.dirname, "../../slo.yaml"), {
      env: { KLARNA_PASSWORD: "pw" },
    });
    const network = {
      tls: { host: "127.0.0.1", port: 40124, caFile: "/tmp/ca.pem" },
      dnsServer: "127.0.0.1:40125",
    };
    const demo = retargetForSimulator(config, "http://127.0.0.1:40123/", network);
    expect(demo.targets.size).toBe(config.targets.size);
    for (const target of demo.targets.values()) {
      expect(target).toMatchObject({
        baseUrl: "http://127.0.0.1:40123",
        environment: "simulator",
        auth: { type: "none" },
      });
    }
    // Probes of a target keep their spec; the diagnostics that name a host ask the simulator's network.
    demo.probes.forEach((probe, i) => {
      const shipped = config.probes[i]!;
      if (probe.kind === "tls")
        expect([probe.host, probe.port, probe.caFile]).toEqual(["127.0.0.1", 40124, "/tmp/ca.pem"]);
      else if (probe.kind === "tcp") expect([probe.host, probe.port]).toEqual(["127.0.0.1", 40124]);
      else if (probe.kind === "dns")
        expect([probe.name, probe.server]).toEqual([
          shipped.kind === "dns" && shipped.name,
          "127.0.0.1:40125",
        ]);
      else expect(probe).toBe(shipped);
    });
    expect(demo.probes.filter((p) => p.kind === "tls" || p.kind === "tcp" || p.kind === "dns")).toHaveLength(
      3,
    );
    expect(config.targets.get("klarna")?.environment).toBe("playground");
  });
});
