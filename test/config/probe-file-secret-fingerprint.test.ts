import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configSha256, effectiveConfiguration } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/load.js";
import { agentSecretValues } from "../../src/probes/scrub.js";
import { ConfigDirs, minimalSlo } from "./config-dir.js";

/**
 * A token in a probe's query string (`path: "/get?token=${K2}"`) is sent with every request; in a
 * probe file (probes_dir) as in slo.yaml, the recorded configuration -- hash-chained into the
 * evidence log and written to a bundle's configuration.json -- must hold the path with the token
 * redacted, and config_sha256 must be computed over that same redacted form.
 */
const K2 = "Qy8QuerySecretValue66";
const dirs = new ConfigDirs();
afterAll(() => dirs.remove());

const probeFile = `- {id: query-token, category: payment_request, target: klarna, every: 30s, path: "/get?token=\${K2}"}
`;

describe("an environment value in a probe file's path", () => {
  it("is [redacted] in the recorded configuration, by run and by report alike", async () => {
    const dir = await dirs.create({
      "slo.yaml": minimalSlo({ probes: "probes_dir: probes\n" }),
      "probes/query.yaml": probeFile,
    });
    const file = join(dir, "slo.yaml");
    const run = await loadConfig(file, { env: { K2 }, probing: true });
    const report = await loadConfig(file, { env: { K2 }, probing: false });
    const recorded = effectiveConfiguration(run.config) as { probes: { id: string; path: string }[] };
    expect(JSON.stringify(recorded)).not.toContain(K2);
    expect(JSON.stringify(recorded).toLowerCase()).not.toContain(Buffer.from(K2).toString("hex"));
    expect(recorded.probes.find((p) => p.id === "query-token")?.path).toBe("/get?token=[redacted]");
    expect(configSha256(report.config)).toBe(configSha256(run.config));
    // The probe still sends the real token.
    const sent = run.config.probes[0];
    expect(sent?.kind === "http" ? sent.path : null).toBe(`/get?token=${K2}`);
  });
});

describe("the agent's secrets, scrubbed from every result and log line", () => {
  it("are every environment value of probes, targets and tokens, but not the agent's region or address", async () => {
    const slo = minimalSlo({ probes: "probes_dir: probes\n" }).replace(
      "version: 1\n",
      `version: 1\nagent: {region: "\${REGION}", listen: "\${LISTEN}", api_token: "\${API_TOKEN}"}\n`,
    );
    const dir = await dirs.create({ "slo.yaml": slo, "probes/query.yaml": probeFile });
    const env = {
      K2,
      REGION: "eu-west-region",
      LISTEN: "127.0.0.1:19999",
      API_TOKEN: "api-token-0123456789abcdef",
    };
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env, probing: true });
    const secrets = agentSecretValues(config);
    expect(secrets).toContain(K2);
    expect(secrets).toContain(env.API_TOKEN);
    expect(secrets).not.toContain(env.REGION);
    expect(secrets).not.toContain(env.LISTEN);
  });
});
