import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import { ConfigError, loadConfig } from "../../src/config/index.js";

const dir = mkdtempSync(join(tmpdir(), "slo-traffic-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = "tr4ffic-t0ken-from-the-environment";

function slo(name: string, traffic: string): string {
  const base = readFileSync(
    join(import.meta.dirname, "../fixtures/config/invalid/alerting-receiver-duplicate-id.yaml"),
    "utf8",
  )
    .split("\n")
    .slice(0, 23)
    .join("\n");
  const file = join(dir, name);
  writeFileSync(file, `${base}\n${traffic}`);
  return file;
}

const routes = `  routes:
    - {method: post, path: /payments/v1/sessions, target: klarna, category: payment_request}
    - {method: GET, path: "/payments/v1/sessions/{id}", target: klarna, category: payment_request}
`;

describe("the traffic: section (contract section 19)", () => {
  it("takes the token from the environment, keeps it a secret, and splits the templates once", async () => {
    const file = slo(
      "env.yaml",
      `traffic:\n  token: "\${SLO_AGENT_TRAFFIC_TOKEN}"\n${routes}sla: {source: both}\n`,
    );
    const { config } = await loadConfig(file, { env: { SLO_AGENT_TRAFFIC_TOKEN: TOKEN } });
    expect(config.traffic?.token.reveal()).toBe(TOKEN);
    expect(config.sla.figuresFrom).toBe("both");
    expect(effectiveConfiguration(config)).toMatchObject({ sla: { figuresFrom: "both" } });
    expect(config.traffic?.routes.map((r) => [r.method, r.probe, r.segments])).toEqual([
      ["POST", "traffic:POST /payments/v1/sessions", ["payments", "v1", "sessions"]],
      ["GET", "traffic:GET /payments/v1/sessions/{id}", ["payments", "v1", "sessions", null]],
    ]);
    // What the evidence log records of the configuration holds no token.
    expect(JSON.stringify(effectiveConfiguration(config))).not.toContain(TOKEN);
    expect(JSON.stringify(config)).not.toContain(TOKEN);
  });

  it("reads token_file relative to slo.yaml, one trailing newline trimmed", async () => {
    writeFileSync(join(dir, "traffic.token"), `${TOKEN}\n`);
    const { config } = await loadConfig(
      slo("file.yaml", `traffic:\n  token_file: traffic.token\n${routes}`),
      { env: {} },
    );
    expect(config.traffic?.token.reveal()).toBe(TOKEN);
    // The default is left out: a probe-only configuration hashes as it did before sla.source.
    expect(config.sla).not.toHaveProperty("figuresFrom");
  });

  it("a missing token file stops run, but not a report, which never serves /v1/traces", async () => {
    const file = slo("missing.yaml", `traffic:\n  token_file: nowhere.token\n${routes}`);
    const error = await loadConfig(file, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/traffic\.token_file: secret file "nowhere\.token": /);
    await expect(loadConfig(file, { env: {}, probing: false })).resolves.toBeDefined();
  });

  it("an unset token variable does not stop a report either", async () => {
    const file = slo("unset.yaml", `traffic:\n  token: "\${SLO_AGENT_TRAFFIC_TOKEN}"\n${routes}`);
    await expect(loadConfig(file, { env: {}, probing: false })).resolves.toBeDefined();
    await expect(loadConfig(file, { env: {} })).rejects.toThrow(/SLO_AGENT_TRAFFIC_TOKEN/);
  });
});
