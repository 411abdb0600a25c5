// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${NAME} references.
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expandString } from "../../src/config/env.js";
import { ConfigError, formatProblem, loadConfig } from "../../src/config/index.js";
import { ConfigDirs, minimalSlo } from "./config-dir.js";

const dirs = new ConfigDirs();
afterEach(() => dirs.remove());

describe("${NAME} references expand from the environment", () => {
  const env = { HOST: "api.klarna.com", EMPTY: "" };
  it.each([
    ["a set variable is substituted", "https://${HOST}/v1", "https://api.klarna.com/v1"],
    ["a default is used when the variable is unset", "${REGION:-eu}", "eu"],
    ["a default is used when the variable is empty", "${EMPTY:-fallback}", "fallback"],
    ["a set variable wins over its default", "${HOST:-example.com}", "api.klarna.com"],
    ["an empty default is allowed", "${REGION:-}", ""],
    ["a set but empty variable without default is empty", "x${EMPTY}y", "xy"],
    ["$$ is a literal dollar", "price: $$5 and $${HOST}", "price: $5 and ${HOST}"],
    ["a lone $ stays as it is", "cost $5", "cost $5"],
    ["several references in one string", "${HOST}:${PORT:-443}", "api.klarna.com:443"],
    ["a default may contain colons and slashes", "${URL:-https://x.test:8080/a}", "https://x.test:8080/a"],
  ])("%s", (_rule, text, expected) => {
    expect(expandString(text, env)).toEqual({ value: expected, problem: null, unset: false });
  });

  it.each([
    ["an unset variable names the variable", "${KLARNA_PASSWORD}", /KLARNA_PASSWORD is not set/],
    ["an unterminated reference is refused", "${HOST", /unterminated/],
    ["an invalid name is refused", "${not a name}", /invalid variable reference/],
  ])("%s", (_rule, text, message) => {
    expect(expandString(text, env).problem).toMatch(message);
  });
});

describe("loading expands references and fills defaults", () => {
  it("expands references in slo.yaml and probe files alike", async () => {
    const dir = await dirs.create({
      "slo.yaml": minimalSlo({
        targets: `targets:\n  klarna: {base_url: "\${BASE:-https://fallback.test}", environment: "\${ENVIRONMENT}"}\n`,
        probes: "probes_dir: ./probes\n",
      }),
      "probes/a.yaml": `- {id: p1, category: payment_request, target: klarna, every: "\${EVERY:-1m}", path: "/x?q=$$1"}\n`,
    });
    const { config } = await loadConfig(join(dir, "slo.yaml"), {
      env: { BASE: "http://127.0.0.1:9/", ENVIRONMENT: "simulator" },
    });
    expect(config.targets.get("klarna")).toMatchObject({
      baseUrl: "http://127.0.0.1:9",
      environment: "simulator",
    });
    expect(config.probes[0]).toMatchObject({
      schedule: { kind: "every", intervalMs: 60_000 },
      path: "/x?q=$1",
    });
  });

  it("turns agent.otlp into a push target whose header values are secrets", async () => {
    const dir = await dirs.create({
      "slo.yaml": minimalSlo({
        extra: `agent:
  otlp:
    endpoint: http://collector:4318/v1/metrics
    headers: {x-api-key: "\${OTLP_KEY}"}
`,
      }),
    });
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: { OTLP_KEY: "k-123-secret" } });
    expect(config.agent.otlp?.endpoint).toBe("http://collector:4318/v1/metrics");
    expect(config.agent.otlp?.intervalMs).toBe(60_000);
    expect(config.agent.otlp?.headers["x-api-key"]?.reveal()).toBe("k-123-secret");
    expect(JSON.stringify(config.agent)).not.toContain("k-123-secret");
  });

  it("fills every default of the schema into the domain model", async () => {
    const dir = await dirs.create({ "slo.yaml": minimalSlo() });
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: {} });
    expect(config.agent).toEqual({
      region: "eu",
      id: hostname(),
      listen: { host: "0.0.0.0", port: 9464 },
      dataDir: join(process.cwd(), "data"),
      retentionDays: 400,
      minuteRollupDays: 400,
      otlp: null,
      adminToken: null,
      maxStallMs: 50,
      niceOtherThreads: 10,
    });
    expect(config.maintenance).toEqual({
      policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
      windows: [],
    });
    expect(config.exclusions).toEqual([]);
    expect(config.serviceClasses.get("transaction_critical")?.availabilityTarget).toBe(0.99);
    expect(config.targets.get("klarna")).toEqual({
      id: "klarna",
      baseUrl: "https://api.playground.klarna.com",
      environment: "playground",
      auth: { type: "none" },
      headers: {},
      maxRequestsPerSecond: null,
      maxInFlight: 8,
      keepAlive: true,
      tlsVerify: true,
    });
    expect(config.probes[0]).toMatchObject({
      kind: "http",
      method: "GET",
      headers: {},
      body: null,
      timeoutMs: 10_000,
      writes: false,
      followRedirects: 0,
      maxBodyBytes: 1_048_576,
      source: { line: 11 },
    });
  });

  it("resolves data_dir and probes_dir against the config file, not the working directory", async () => {
    const dir = await dirs.create({
      "conf/slo.yaml": minimalSlo({
        probes: "probes_dir: ../probes\n",
        extra: "agent: {data_dir: ./evidence}\n",
      }),
      "probes/a.yaml":
        "- {id: p1, category: payment_request, target: klarna, schedule: '*/30 * * * * *', path: /x}\n",
    });
    const { config } = await loadConfig(join(dir, "conf/slo.yaml"), { env: {} });
    expect(config.agent.dataDir).toBe(join(dir, "conf/evidence"));
    expect(config.probes.map((p) => p.schedule)).toEqual([{ kind: "cron", expression: "*/30 * * * * *" }]);
    expect(config.file).toBe(join(dir, "conf/slo.yaml"));
  });

  it("converts windows to epoch ms and sends a mapping body as JSON", async () => {
    const dir = await dirs.create({
      "slo.yaml": minimalSlo({
        probes: `probes:\n  - {id: p1, category: payment_request, target: klarna, every: 5m, method: POST, path: /x, body: {amount: 0}, writes: true}\n`,
        extra: `maintenance:\n  windows:\n    - {id: mw-1, start: 2026-10-10T01:00:00Z, end: 2026-10-10T03:00:00+00:00, announced_at: 2026-09-30T12:00:00Z, categories: [all], description: db}\n`,
      }),
    });
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: {} });
    expect(config.maintenance.windows).toEqual([
      {
        id: "mw-1",
        start: Date.UTC(2026, 9, 10, 1),
        end: Date.UTC(2026, 9, 10, 3),
        announcedAt: Date.UTC(2026, 8, 30, 12),
        categories: "all",
        description: "db",
      },
    ]);
    expect(config.probes[0]).toMatchObject({
      body: '{"amount":0}',
      headers: { "content-type": "application/json" },
    });
  });
});

describe("secrets come from the environment or from *_file keys", () => {
  const basicAuth = (auth: string) =>
    minimalSlo({ targets: `targets:\n  klarna:\n    base_url: https://api.klarna.com\n    auth: ${auth}\n` });

  it("reads *_file secrets relative to the config file, trimming one trailing newline", async () => {
    const dir = await dirs.create({
      "conf/slo.yaml": basicAuth("{type: basic, username_file: secrets/user, password_file: ./secrets/pass}"),
      "conf/secrets/user": "merchant-1\n",
      "conf/secrets/pass": "p@ss word \n",
    });
    const { config, warnings } = await loadConfig(join(dir, "conf/slo.yaml"), { env: {} });
    const auth = config.targets.get("klarna")!.auth;
    if (auth.type !== "basic") throw new Error(`expected basic auth, got ${auth.type}`);
    expect([auth.username.reveal(), auth.password.reveal()]).toEqual(["merchant-1", "p@ss word "]);
    expect(warnings).toEqual([]);
  });

  it("keeps secrets out of JSON and string forms of the loaded config", async () => {
    const dir = await dirs.create({ "slo.yaml": basicAuth('{type: bearer, token: "${TOKEN}"}') });
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: { TOKEN: "tok-8c1f2e" } });
    const target = config.targets.get("klarna")!;
    expect(JSON.stringify(target)).not.toContain("tok-8c1f2e");
    expect(`${target.auth.type === "bearer" ? target.auth.token : ""}`).toBe("[redacted]");
  });

  it("warns, without failing, about an empty username", async () => {
    const dir = await dirs.create({
      "slo.yaml": basicAuth(
        '{type: basic, username: "${KLARNA_USERNAME:-}", password: "${KLARNA_PASSWORD:-}"}',
      ),
    });
    const { warnings } = await loadConfig(join(dir, "slo.yaml"), { env: {} });
    expect(warnings.map(formatProblem)).toEqual([
      `${join(dir, "slo.yaml")}:9:35: targets.klarna.auth.username: empty username: requests to this target will not authenticate`,
    ]);
  });

  it("names a missing secret file and a missing variable, never a value", async () => {
    const dir = await dirs.create({
      "slo.yaml": basicAuth('{type: basic, username: "${KLARNA_USERNAME}", password_file: missing/pass}'),
    });
    const error = await loadConfig(join(dir, "slo.yaml"), { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "targets.klarna.auth.username: environment variable KLARNA_USERNAME is not set (write ${KLARNA_USERNAME:-default} for a default)",
      'targets.klarna.auth.password_file: secret file "missing/pass": file not found',
    ]);
  });
});

describe("a config file that cannot be read is one clear problem", () => {
  it("names the file as given, at line 1 column 1", async () => {
    const error = await loadConfig("no/such/slo.yaml", { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([
      "no/such/slo.yaml:1:1: (file): file not found",
    ]);
  });

  it("reports an empty file as a missing mapping, not a crash", async () => {
    const dir = await dirs.create({ "slo.yaml": "# nothing yet\n" });
    const error = await loadConfig(join(dir, "slo.yaml"), { env: {} }).catch((e: unknown) => e);
    expect((error as ConfigError).problems.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`)).toEqual(
      ["1:1: (document): expected a mapping, got nothing (null)"],
    );
  });
});
