import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/clock/system.js";
import { effectiveConfiguration } from "../../../src/config/fingerprint.js";
import { loadConfig } from "../../../src/config/index.js";
import type { SloConfig } from "../../../src/model/config.js";
import type { ProbeResult } from "../../../src/model/result.js";
import { ProbeRunner } from "../../../src/probes/index.js";
import { ConfigDirs, minimalSlo } from "../../config/config-dir.js";
import { type ReceivedRequest, type RecordingServer, recordingServer } from "../recording-server.js";

/** `${steps.<step>.<name>}` and `${NAME}`, spelled so that the linter does not read a template-literal slip. */
const ref = (step: string, name: string) => `$${"{"}steps.${step}.${name}}`;
const env = (name: string) => `$${"{"}${name}}`;

/** A session id a path must encode, a header may carry and a JSON body must escape. */
const SESSION_ID = 's "1"/2';
const STEP_KEY = "step-key-7c1e0a";
const INLINE_KEY = "inline-key-93ab41";

let server: RecordingServer;
let received: ReceivedRequest[];
let origin: string;

beforeAll(async () => {
  server = await recordingServer((req, res) => {
    const answer = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/echo") return answer(400, { error_code: `BAD_KEY ${req.headers["x-api-key"]}` });
    if (req.url === "/crlf") return answer(200, { session_id: "s1\r\nX-Injected: yes" });
    if (req.method === "POST" && req.url === "/payments/v1/sessions")
      return answer(200, { session_id: SESSION_ID, client_token: "tok-9" });
    answer(200, {});
  });
  ({ received, origin } = server);
});
afterAll(() => server.close());

const dirs = new ConfigDirs();
afterEach(async () => {
  received.length = 0;
  await dirs.remove();
});

const FLOW = `- id: session-flow
  kind: flow
  category: payment_request
  target: klarna
  every: 5m
  writes: true
  headers: {X-Flow: flow-wide, X-Override: from-flow}
  steps:
    - id: create
      method: POST
      path: /payments/v1/sessions
      body_file: ./bodies/session.json
      headers: {X-Override: from-step, X-Api-Key: "${env("STEP_KEY")}"}
      extract: {session_id: "$.session_id", token: "$.client_token"}
    - id: read
      path: "/payments/v1/sessions/${ref("create", "session_id")}?token=${ref("create", "token")}"
      headers: {X-Session: "sess ${ref("create", "session_id")}"}
    - id: update
      method: PATCH
      path: "/payments/v1/sessions/${ref("create", "session_id")}"
      body_file: bodies/update.json
`;

const FILES = {
  "bodies/session.json": '{"purchase_country": "SE", "order_amount": 100}\n',
  "bodies/update.json": `{"session": "${ref("create", "session_id")}", "order_amount": 200}\n`,
};

async function configDir(flow: string, files: Record<string, string> = FILES): Promise<string> {
  const targets = `targets:\n  klarna:\n    base_url: ${origin}\n    environment: simulator\n    headers: {X-Target: t, X-Override: from-target}\n`;
  const slo = minimalSlo({ targets, probes: "probes_dir: probes\n" });
  const probeFiles = Object.fromEntries(
    Object.entries(files).map(([name, text]) => [`probes/${name}`, text]),
  );
  return dirs.create({ "slo.yaml": slo, "probes/flows.yaml": flow, ...probeFiles });
}

async function load(flow: string, files?: Record<string, string>, probing = true): Promise<SloConfig> {
  const dir = await configDir(flow, files);
  return (await loadConfig(join(dir, "slo.yaml"), { env: { STEP_KEY }, probing })).config;
}

async function problemsOf(flow: string, files?: Record<string, string>): Promise<string[]> {
  try {
    await load(flow, files);
    return [];
  } catch (error) {
    return String((error as Error).message)
      .split("\n")
      .filter((line) => line.includes("flows.yaml:"));
  }
}

async function runFlow(config: SloConfig): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  const runner = new ProbeRunner({ clock: systemClock, config, sink: { record: (r) => results.push(r) } });
  await runner.execute(config.probes.find((p) => p.kind === "flow")!, Date.now());
  await runner.close();
  return results;
}

describe("a flow step's headers, body_file and step values, as the server receives them", () => {
  it("sends the target's, the flow's and the step's headers, the step's winning", async () => {
    const results = await runFlow(await load(FLOW));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const [create, read, update] = received;
    expect(create!.headers).toMatchObject({
      "x-target": "t",
      "x-flow": "flow-wide",
      "x-override": "from-step",
      "x-api-key": STEP_KEY,
    });
    expect(read!.headers).toMatchObject({
      "x-target": "t",
      "x-flow": "flow-wide",
      "x-override": "from-flow",
    });
    expect(read!.headers["x-api-key"]).toBeUndefined();
    expect(update!.headers["x-override"]).toBe("from-flow");
  });

  it("sends body_file as read, relative to the probe file, as JSON", async () => {
    await runFlow(await load(FLOW));
    const [create] = received;
    expect(create!.method).toBe("POST");
    expect(create!.body).toBe(FILES["bodies/session.json"]);
    expect(create!.headers["content-type"]).toBe("application/json");
  });

  it("puts extracted values into the path (encoded), a header (as is) and a body file (JSON-escaped)", async () => {
    await runFlow(await load(FLOW));
    const [, read, update] = received;
    expect(read!.url).toBe(`/payments/v1/sessions/${encodeURIComponent(SESSION_ID)}?token=tok-9`);
    expect(read!.headers["x-session"]).toBe(`sess ${SESSION_ID}`);
    expect(update!.method).toBe("PATCH");
    expect(JSON.parse(update!.body)).toEqual({ session: SESSION_ID, order_amount: 200 });
  });

  it("keeps a step's credential header out of the results and the recorded configuration", async () => {
    const echo = `- id: echo-flow
  kind: flow
  category: payment_request
  target: klarna
  every: 5m
  steps:
    - {id: first, path: /first, headers: {X-Api-Key: "${env("STEP_KEY")}"}}
    - {id: echo, path: /echo, headers: {X-Api-Key: ${INLINE_KEY}}}
`;
    const config = await load(echo);
    const results = await runFlow(config);
    expect(received.map((r) => r.headers["x-api-key"])).toEqual([STEP_KEY, INLINE_KEY]);
    expect(results.map((r) => r.status)).toEqual([200, 400]);
    expect(results[1]!.errorCode).toContain("BAD_KEY");
    const recorded = JSON.stringify(results);
    expect(recorded).not.toContain(INLINE_KEY);
    const shown = JSON.stringify(effectiveConfiguration(config));
    expect(shown).not.toContain(INLINE_KEY);
    expect(shown).not.toContain(STEP_KEY);
  });

  it("a value a header cannot hold is never sent: the agent's error, not the provider's", async () => {
    const crlf = `- id: crlf-flow
  kind: flow
  category: payment_request
  target: klarna
  every: 5m
  steps:
    - {id: first, path: /crlf, extract: {session_id: "$.session_id"}}
    - {id: second, path: /second, headers: {X-Session: "${ref("first", "session_id")}"}}
`;
    const results = await runFlow(await load(crlf));
    expect(received.map((r) => r.url)).toEqual(["/crlf"]);
    expect(results.map((r) => r.probe)).toEqual(["crlf-flow/first", "crlf-flow/second"]);
    expect(results[1]!.flags).toContain("agent_error");
    expect(results[1]!.observed).toMatchObject({ failed_step: "second" });
  });
});

describe("a flow step's body_file: configuration errors", () => {
  const cases: [string, string, Record<string, string>, string][] = [
    [
      "a body file that does not exist",
      FLOW.replace("./bodies/session.json", "./bodies/missing.json"),
      FILES,
      'flows.yaml:12:18: [0].steps[0].body_file: body file "./bodies/missing.json": file not found',
    ],
    [
      "a body file larger than 1 MiB",
      FLOW,
      { ...FILES, "bodies/session.json": "x".repeat(1024 * 1024 + 1) },
      '[0].steps[0].body_file: body file "./bodies/session.json": larger than 1 MiB, the most such a file may hold',
    ],
    [
      "a body file naming a value no earlier step extracts",
      FLOW,
      { ...FILES, "bodies/update.json": `{"id": "${ref("read", "id")}"}` },
      `[0].steps[2].body_file: body file "bodies/update.json": ${ref("read", "id")}: no earlier step extracts "id" as step "read"`,
    ],
    [
      "both body and body_file",
      FLOW.replace(
        "body_file: ./bodies/session.json",
        "body_file: ./bodies/session.json\n      body: {a: 1}",
      ),
      FILES,
      "[0].steps[0].body_file: give either body or body_file, not both",
    ],
    [
      "a header naming a value no earlier step extracts",
      FLOW.replace(`"sess ${ref("create", "session_id")}"`, `"sess ${ref("create", "nope")}"`),
      FILES,
      `[0].steps[1]: ${ref("create", "nope")}: no earlier step extracts "nope" as step "create"`,
    ],
  ];
  it.each(cases)("%s is refused, located", async (_name, flow, files, message) => {
    const problems = await problemsOf(flow, files);
    expect(
      problems.some((p) => p.includes(message)),
      problems.join("\n"),
    ).toBe(true);
  });

  it("a command that never probes (a report) loads without the body file", async () => {
    const config = await load(FLOW.replace("./bodies/session.json", "./bodies/missing.json"), FILES, false);
    expect(config.probes.map((p) => p.id)).toEqual(["session-flow"]);
  });
});
