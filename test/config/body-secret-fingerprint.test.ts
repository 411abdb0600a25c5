import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configSha256, effectiveConfiguration } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/load.js";
import { ConfigDirs, minimalSlo } from "./config-dir.js";

/**
 * A probe body with a value from the environment (`body: {note: "${BODYV}"}`) is a secret: the
 * recorded configuration must say "[secret]" for it, and the fingerprint must be the same whether
 * the variable is set (run) or not (report).
 */
const BODYV = "body-value-9f3c2a71";
const dirs = new ConfigDirs();
afterAll(() => dirs.remove());

const probes = `probes:
  - {id: payment-request-read, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/0, method: POST, body: {note: "\${BODYV}", plain: fixed}}
  - {id: payment-request-other, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/1, method: POST, body: {plain: fixed}}
`;

describe("a probe body with an environment value", () => {
  it("is [secret] in the recorded configuration and the fingerprint does not depend on whether it is set", async () => {
    const dir = await dirs.create({ "slo.yaml": minimalSlo({ probes }) });
    const file = join(dir, "slo.yaml");
    const set = await loadConfig(file, { env: { BODYV }, probing: true });
    const unset = await loadConfig(file, { env: {}, probing: false });
    const text = JSON.stringify(effectiveConfiguration(set.config));
    expect(text).not.toContain(BODYV);
    expect(text).not.toContain("body-value");
    const probe = (effectiveConfiguration(set.config) as { probes: { id: string; body: unknown }[] }).probes;
    expect(probe.find((p) => p.id === "payment-request-read")?.body).toBe("[secret]");
    // A body without an environment value is still recorded as it is.
    expect(probe.find((p) => p.id === "payment-request-other")?.body).toBe('{"plain":"fixed"}');
    expect(configSha256(unset.config)).toBe(configSha256(set.config));
    // The probe still sends the real body.
    const read = set.config.probes.find((p) => p.id === "payment-request-read");
    expect(read?.kind === "http" ? read.body : null).toContain(BODYV);
  });
});
