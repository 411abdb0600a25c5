// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the configurations under test hold literal ${NAME} references.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import { Secret } from "../../src/model/secret.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import { checkConfig } from "./check-config-cli.js";
import { ConfigDirs, minimalSlo } from "./config-dir.js";

const dirs = new ConfigDirs();
afterEach(() => dirs.remove());

const TOKEN = "tok-9d1e77-never-print-me";
const PARTNER = "partner-31c0aa-never-print-me";
const API_KEY = "key-5b2f4e-never-print-me";
const CUSTOMER = "cust-88a4d1-never-print-me";
const ENV = { KLARNA_TOKEN: TOKEN, PARTNER_ID: PARTNER, PARTNER_KEY: API_KEY, CUSTOMER_REF: CUSTOMER };

const TARGET_WITH_HEADERS = `targets:
  klarna:
    base_url: https://api.playground.klarna.com/
    environment: playground
    headers: {Authorization: "Bearer \${KLARNA_TOKEN}", X-Partner: "\${PARTNER_ID}"}
`;

/** slo.yaml whose target sends credentials from the environment, and one probe written by `probe`. */
function sloWith(probe: string, targets = TARGET_WITH_HEADERS): string {
  return minimalSlo({ targets, probes: `probes:\n  - ${probe}\n` });
}

const probe = (fields: string) =>
  `{id: p1, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/0, ${fields}}`;

describe("a header credential from the environment appears in no check-config output", () => {
  const cases: { case: string; files: Record<string, string>; line: string }[] = [
    {
      case: "the token pasted where the probe's target id belongs",
      files: { "slo.yaml": sloWith(probe('target: "${KLARNA_TOKEN}"').replace("target: klarna, ", "")) },
      line: 'probes[0].target: unknown target "[redacted]"',
    },
    {
      case: "the whole Authorization value pasted where a target id belongs",
      files: {
        "slo.yaml": sloWith(probe('target: "Bearer ${KLARNA_TOKEN}"').replace("target: klarna, ", "")),
      },
      line: 'probes[0].target: unknown target "[redacted]"',
    },
    {
      case: "a header of any name whose value is from the environment, pasted where a category belongs",
      files: {
        "slo.yaml": sloWith(probe('category: "${PARTNER_ID}"').replace("category: payment_request, ", "")),
      },
      line: 'probes[0].category: unknown category "[redacted]"',
    },
    {
      case: "a bad value in the same target",
      files: {
        "slo.yaml": sloWith(probe("method: GET"), `${TARGET_WITH_HEADERS}    max_requests_per_second: -3\n`),
      },
      line: "targets.klarna.max_requests_per_second: must be > 0",
    },
    {
      case: "a probe's own API key header with the key pasted into its target, in a probe file",
      files: {
        "slo.yaml": minimalSlo({ targets: TARGET_WITH_HEADERS, probes: "probes_dir: probes\n" }),
        "probes/keys.yaml": `- {id: k1, category: payment_request, target: "\${PARTNER_KEY}", every: 30s, path: /x, headers: {X-Api-Key: "\${PARTNER_KEY}"}}\n`,
      },
      line: 'probes/keys.yaml:1:47: [0].target: unknown target "[redacted]"',
    },
    {
      case: "an environment value in a probe body, pasted where a category belongs",
      files: {
        "slo.yaml": sloWith(
          probe('method: POST, body: {customer: "${CUSTOMER_REF}"}, category: "${CUSTOMER_REF}"').replace(
            "category: payment_request, ",
            "",
          ),
        ),
      },
      line: 'probes[0].category: unknown category "[redacted]"',
    },
  ];
  const runs = cases.flatMap((c) => [
    { ...c, debug: false },
    { ...c, debug: true },
  ]);

  it.each(runs)("with $case (--debug: $debug)", async ({ files, line, debug }) => {
    const dir = await dirs.create(files);
    const outcome = await checkConfig(debug ? ["--debug"] : [], dir, ENV);
    expect(outcome.code, outcome.stderr).toBe(2);
    expect(outcome.stderr).toContain(line);
    for (const secret of [TOKEN, PARTNER, API_KEY, CUSTOMER]) {
      expect(outcome.stdout).not.toContain(secret);
      expect(outcome.stderr).not.toContain(secret);
    }
  });
});

describe("a credential written inline in a header", () => {
  it("warns that it belongs in the environment, without repeating it", async () => {
    const inline = `targets:
  klarna:
    base_url: https://api.playground.klarna.com/
    environment: playground
    headers: {Authorization: "Bearer inline-6e0c2b", X-Client: slo-agent}
`;
    const dir = await dirs.create({
      "slo.yaml": sloWith(probe('headers: {Cookie: "sid=inline-a41f90"}'), inline),
    });
    const outcome = await checkConfig([], dir);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr.trim().split("\n")).toEqual([
      'slo.yaml:10:30: targets.klarna.headers.Authorization: warning: header Authorization holds an inline credential: put it in the environment and write "${NAME}" here',
      'slo.yaml:12:118: probes[0].headers.Cookie: warning: header Cookie holds an inline credential: put it in the environment and write "${NAME}" here',
    ]);
    expect(outcome.stderr).not.toContain("inline-");
  });

  it("is redacted from problems as well, the part after the scheme too", async () => {
    const inline = TARGET_WITH_HEADERS.replace("Bearer ${KLARNA_TOKEN}", "Bearer inline-6e0c2b");
    const dir = await dirs.create({
      "slo.yaml": sloWith(probe('target: "inline-6e0c2b"').replace("target: klarna, ", ""), inline),
    });
    const outcome = await checkConfig([], dir, ENV);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('probes[0].target: unknown target "[redacted]"');
    expect(outcome.stderr).not.toContain("inline-6e0c2b");
  });

  it("does not warn when it comes from the environment", async () => {
    const dir = await dirs.create({ "slo.yaml": sloWith(probe('headers: {X-Api-Key: "${PARTNER_KEY}"}')) });
    expect(await checkConfig([], dir, ENV)).toEqual({
      code: 0,
      stdout: "slo.yaml: ok: 1 category, 1 service class, 1 probe, 1 target\n",
      stderr: "",
    });
  });
});

describe("the model holds header credentials as Secrets", () => {
  const headers = `{Authorization: "Bearer \${KLARNA_TOKEN}", X-Partner: "\${PARTNER_ID}", X-Region: "\${REGION:-eu}", X-Client: slo-agent, X-Price: "$\${PARTNER_ID}", Api_Key: inline-k}`;

  it.each([
    ["a credential's header name from the environment is a Secret", "Authorization", `Bearer ${TOKEN}`, true],
    ["any header name from the environment is a Secret", "X-Partner", PARTNER, true],
    ["a reference that fell back to its default is still a Secret", "X-Region", "eu", true],
    ["an inline value of an ordinary header stays a string", "X-Client", "slo-agent", false],
    ["$$ escapes the reference: no environment, no Secret", "X-Price", "${PARTNER_ID}", false],
    ["an inline value of a credential's header name is a Secret", "Api_Key", "inline-k", true],
  ])("%s", async (_rule, name, value, secret) => {
    const dir = await dirs.create({
      "slo.yaml": sloWith(
        probe(`headers: ${headers}`),
        TARGET_WITH_HEADERS.replace(/headers: .*/, () => `headers: ${headers}`),
      ),
    });
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: ENV });
    const first = config.probes[0]!;
    if (first.kind !== "http") throw new Error("expected an http probe");
    for (const held of [config.targets.get("klarna")!.headers[name], first.headers[name]]) {
      expect(held instanceof Secret).toBe(secret);
      expect(held instanceof Secret ? held.reveal() : held).toBe(value);
    }
    expect(JSON.stringify([...config.targets.values(), ...config.probes])).not.toContain(TOKEN);
  });
});

describe("a header credential reaches the request, revealed", () => {
  it("sends the target's and the probe's credentials to the API", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const target = TARGET_WITH_HEADERS.replace(
        "https://api.playground.klarna.com/",
        `http://127.0.0.1:${port}`,
      ).replace("playground", "simulator");
      const dir = await dirs.create({
        "slo.yaml": sloWith(probe('headers: {X-Api-Key: "${PARTNER_KEY}"}'), target),
      });
      const { config } = await loadConfig(join(dir, "slo.yaml"), { env: ENV });
      const spec = config.probes[0]!;
      const t = config.targets.get("klarna")!;
      const dispatcher = createTargetDispatcher(t, { clock: systemClock });
      try {
        const { result } = await runProbe({ spec, target: t, dispatcher, clock: systemClock });
        expect(result.status).toBe(200);
      } finally {
        await dispatcher.destroy();
      }
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        authorization: `Bearer ${TOKEN}`,
        "x-partner": PARTNER,
        "x-api-key": API_KEY,
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
