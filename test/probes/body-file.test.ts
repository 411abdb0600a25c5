import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import type { SloConfig } from "../../src/model/config.js";
import { ProbeRunner } from "../../src/probes/index.js";
import { ConfigDirs, minimalSlo } from "../config/config-dir.js";
import { type ReceivedRequest, type RecordingServer, recordingServer } from "./recording-server.js";

/** An http probe's body_file: read at load relative to its probe file, sent as the request body. */

let server: RecordingServer;
let received: ReceivedRequest[];
let origin: string;

beforeAll(async () => {
  server = await recordingServer((_, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end("{}"),
  );
  ({ received, origin } = server);
});
afterAll(() => server.close());

const dirs = new ConfigDirs();
afterEach(async () => {
  received.length = 0;
  await dirs.remove();
});

const PROBE = `- id: session-create
  category: payment_request
  target: klarna
  every: 5m
  method: POST
  writes: true
  path: /payments/v1/sessions
  body_file: bodies/session.json
`;
const BODY = '{"purchase_country": "SE", "order_amount": 100}\n';

async function load(probe: string, files: Record<string, string>): Promise<SloConfig> {
  const targets = `targets:\n  klarna:\n    base_url: ${origin}\n    environment: simulator\n`;
  const dir = await dirs.create({
    "slo.yaml": minimalSlo({ targets, probes: "probes_dir: probes\n" }),
    "probes/create.yaml": probe,
    ...Object.fromEntries(Object.entries(files).map(([name, text]) => [`probes/${name}`, text])),
  });
  return (await loadConfig(join(dir, "slo.yaml"), { env: {} })).config;
}

describe("an http probe's body_file", () => {
  it("sends what the file holds, as JSON", async () => {
    const config = await load(PROBE, { "bodies/session.json": BODY });
    const runner = new ProbeRunner({ clock: systemClock, config, sink: { record: () => {} } });
    await runner.execute(config.probes[0]!, Date.now());
    await runner.close();
    expect(received.map((r) => ({ body: r.body, contentType: r.headers["content-type"] }))).toEqual([
      { body: BODY, contentType: "application/json" },
    ]);
  });

  it.each([
    [
      "a missing file",
      PROBE,
      {},
      'create.yaml:8:14: [0].body_file: body file "bodies/session.json": file not found',
    ],
    [
      "both body and body_file",
      `${PROBE}  body: {a: 1}\n`,
      { "bodies/session.json": BODY },
      "[0].body_file: give either body or body_file, not both",
    ],
  ])("%s is a located configuration error", async (_name, probe, files, message) => {
    const error = await load(probe, files).then(
      () => null,
      (e: unknown) => String(e),
    );
    expect(error).toContain(message);
  });
});
