import { afterAll, describe, expect, it } from "vitest";
import { redactSecrets } from "../../src/model/secret.js";
import { checkConfig } from "./check-config-cli.js";
import { ConfigDirs, minimalSlo } from "./config-dir.js";

const dirs = new ConfigDirs();
afterAll(() => dirs.remove());

const withAuth = (auth: string, probeExtra = "") =>
  minimalSlo({
    targets: `targets:
  klarna:
    base_url: https://api.klarna.com
    environment: playground
    auth: ${auth}
`,
    probes: `probes:
  - {id: payment-request-read, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/0${probeExtra}}
`,
  });

describe("secret files and the messages about them", () => {
  it('never prints a secret file path that came from the environment (password_file: "$KLARNA_PASSWORD" as a path)', async () => {
    const secret = "pw-91c2e7-put-in-the-wrong-key";
    const dir = await dirs.create({
      "slo.yaml": withAuth(`{type: basic, username: merchant-0001, password_file: "\${KLARNA_PASSWORD}"}`),
    });
    const outcome = await checkConfig([], dir, { KLARNA_PASSWORD: secret });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      /^slo\.yaml:\d+:\d+: targets\.klarna\.auth\.password_file: secret file \(path from the environment\): file not found\n$/,
    );
    expect(outcome.stderr).not.toContain(secret);
  });

  it("still names a secret file written in the configuration", async () => {
    const dir = await dirs.create({
      "slo.yaml": withAuth("{type: bearer, token_file: secrets/missing}"),
    });
    const outcome = await checkConfig([], dir);
    expect(outcome.stderr).toContain('token_file: secret file "secrets/missing": file not found');
  });

  it("fails fast on /dev/zero as a token_file instead of reading it for ever", async () => {
    const dir = await dirs.create({ "slo.yaml": withAuth("{type: bearer, token_file: /dev/zero}") });
    const outcome = await checkConfig([], dir);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      /^slo\.yaml:\d+:\d+: targets\.klarna\.auth\.token_file: secret file "\/dev\/zero": larger than 64 KiB, the most such a file may hold\n$/,
    );
  });

  it("refuses a secret file over 64 KiB and a configuration file over 1 MiB, each in one located line", async () => {
    const dir = await dirs.create({
      "slo.yaml": withAuth("{type: bearer, token_file: big-token}"),
      "big-token": "x".repeat(64 * 1024 + 1),
      "huge.yaml": `${withAuth("{type: none}")}# ${"x".repeat(1024 * 1024)}\n`,
    });
    const big = await checkConfig([], dir);
    expect(big.stderr).toContain('secret file "big-token": larger than 64 KiB');
    const huge = await checkConfig(["--config", "huge.yaml"], dir);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toBe("huge.yaml:1:1: (file): larger than 1 MiB, the most such a file may hold\n");
  });

  it("does not turn a short secret into an oracle: 'out' is not redacted inside timeout_ms", async () => {
    const dir = await dirs.create({
      "slo.yaml": withAuth(
        `{type: basic, username: merchant-0001, password: "\${KLARNA_PASSWORD}"}`,
        ", timout_ms: 500",
      ),
    });
    const outcome = await checkConfig([], dir, { KLARNA_PASSWORD: "out" });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain("timeout_ms");
    expect(outcome.stderr).not.toContain("[redacted]");
  });
});

describe("redactSecrets: long secrets anywhere, short ones only as whole tokens", () => {
  it.each([
    { text: "got pw-1234567 back", secrets: ["pw-1234567"], redacted: "got [redacted] back" },
    { text: "xpw-1234567x", secrets: ["pw-1234567"], redacted: "x[redacted]x" },
    { text: 'did you mean "timeout_ms"', secrets: ["out"], redacted: 'did you mean "timeout_ms"' },
    { text: 'target "out" is unknown', secrets: ["out"], redacted: 'target "[redacted]" is unknown' },
    { text: "out", secrets: ["out"], redacted: "[redacted]" },
    { text: "aaa a", secrets: ["a"], redacted: "aaa [redacted]" },
    { text: "nothing here", secrets: [""], redacted: "nothing here" },
  ])("$text with $secrets", ({ text, secrets, redacted }) => {
    expect(redactSecrets(text, secrets)).toBe(redacted);
  });
});
