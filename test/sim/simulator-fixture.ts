/** Starting a simulator from scenario YAML for one test, and asking it things as a real client would. */
import { Agent, request } from "undici";
import type { Clock } from "../../src/clock/clock.js";
import { systemClock } from "../../src/clock/system.js";
import { parseScenario, type RunningSimulator, startSimulator } from "../../src/sim/index.js";

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  readonly json: unknown;
}

/** Runs body against a fresh simulator (and a fresh connection pool), closing both afterwards. */
export async function withSimulator<T>(
  scenarioYaml: string,
  body: (sim: RunningSimulator, client: Agent) => Promise<T>,
  options: { seed?: number; clock?: Clock } = {},
): Promise<T> {
  const sim = await startSimulator({ scenario: parseScenario(scenarioYaml, "test scenario"), ...options });
  const client = new Agent();
  try {
    return await body(sim, client);
  } finally {
    await client.destroy();
    await sim.close();
  }
}

/** The system clock, except that now() says what the test wants (for bursts and rate windows). */
export function clockAt(now: () => number): Clock {
  return { now, monotonic: systemClock.monotonic, setTimeout: systemClock.setTimeout };
}

export async function ask(
  client: Agent,
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; headersTimeout?: number } = {},
): Promise<Answer> {
  const response = await request(url, {
    dispatcher: client,
    method: (init.method ?? "GET") as "GET",
    body: init.body,
    headers: init.body === undefined ? init.headers : { "content-type": "application/json", ...init.headers },
    headersTimeout: init.headersTimeout,
  });
  const text = await response.body.text();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) headers[name] = String(value);
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.statusCode, headers, text, json };
}

/** The simulator's own processing time from Server-Timing ("app;dur=12.345"), in ms. */
export function serverTimingMs(answer: Answer): number {
  const match = /^app;dur=(\d+(?:\.\d+)?)$/.exec(answer.headers["server-timing"] ?? "");
  if (!match) throw new Error(`no Server-Timing app;dur in ${JSON.stringify(answer.headers)}`);
  return Number(match[1]);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
