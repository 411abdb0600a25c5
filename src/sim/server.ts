/**
 * The simulated Klarna API: an HTTP server on loopback that answers the Klarna profile's probe
 * paths and injects the faults of the scenario in force. Requests need no Authorization header
 * (the demo runs without credentials); one that carries it is answered the same way.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock, TimerHandle } from "../clock/clock.js";
import { systemClock } from "../clock/system.js";
import { ADMIN_PREFIX, answerAdmin } from "./admin.js";
import { type AdminAccess, adminRefusal, isLoopbackAddress } from "./admin-access.js";
import { errorBody, errorForStatus } from "./error-body.js";
import { type Plan, planRequest } from "./faults.js";
import { LiveScenario } from "./live-scenario.js";
import { RateLimiter, type RateLimitVerdict } from "./rate-limit.js";
import {
  type Reply,
  resetConnection,
  type Schedule,
  sendAndCutMidBody,
  sendSlowly,
  sendWhole,
} from "./respond.js";
import { createRng, type Rng } from "./rng.js";
import { matchRoute, type RouteAnswer, UNMATCHED } from "./routes.js";
import { EMPTY_SCENARIO, type Faults, type Scenario } from "./scenario.js";
import { RequestStats } from "./stats.js";

export interface SimulatorOptions {
  /** Default 127.0.0.1: the simulator is for loopback only. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default: no faults at all. */
  readonly scenario?: Scenario;
  /** Seed of the fault decisions (default 1): the same seed and requests give the same faults. */
  readonly seed?: number;
  /** Time for bursts, rate-limit windows, Server-Timing and delays (default: the system clock). */
  readonly clock?: Clock;
  /** A host other than loopback is refused unless this is true (the simulator has no auth of its own). */
  readonly allowNonLoopback?: boolean;
  /** Bearer token for the admin API; required there when the simulator is not on loopback. */
  readonly adminToken?: string;
}

export interface RunningSimulator {
  /** http://HOST:PORT, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  setScenario(scenario: Scenario): void;
  /** The scenario in force, with live PATCH overlays folded in. */
  scenario(): Scenario;
  /** Requests seen per category ("unmatched" for unknown paths); admin requests are not counted. */
  requestCounts(): Record<string, number>;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
}

/** Request bodies larger than this are answered 413 REQUEST_TOO_LARGE. */
const MAX_REQUEST_BYTES = 1024 * 1024;

interface Context {
  readonly clock: Clock;
  readonly live: LiveScenario;
  readonly stats: RequestStats;
  readonly limiter: RateLimiter;
  readonly rng: Rng;
  readonly schedule: Schedule;
  readonly admin: AdminAccess;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? "127.0.0.1";
  const loopbackOnly = isLoopbackAddress(host);
  if (!loopbackOnly && options.allowNonLoopback !== true) {
    throw new Error(`simulator: refusing to listen on ${host}: it is for loopback (127.0.0.1, ::1) only`);
  }
  const clock = options.clock ?? systemClock;
  const pending = new Set<TimerHandle>();
  let closed = false;
  const schedule: Schedule = (fn, ms) => {
    if (closed) return;
    if (ms <= 0) return fn();
    const handle: TimerHandle = clock.setTimeout(() => {
      pending.delete(handle);
      fn();
    }, ms);
    pending.add(handle);
  };
  const ctx: Context = {
    clock,
    live: new LiveScenario(options.scenario ?? EMPTY_SCENARIO),
    stats: new RequestStats(),
    limiter: new RateLimiter(),
    rng: createRng(options.seed ?? 1),
    schedule,
    admin: { loopbackOnly, token: options.adminToken ?? null },
  };
  const server = createServer((req, res) => {
    handleRequest(ctx, req, res).catch((error: unknown) => {
      // A bug here must not look like a Klarna answer: say so once and drop the connection.
      if (!req.destroyed)
        process.stderr.write(`simulator: ${error instanceof Error ? error.message : error}\n`);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    setScenario: (scenario) => ctx.live.replace(scenario),
    scenario: () => ctx.live.current(),
    requestCounts: () => ctx.stats.requestCounts(),
    close: async () => {
      closed = true;
      for (const handle of pending) handle.cancel();
      pending.clear();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    },
  };
}

async function handleRequest(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = ctx.clock.monotonic();
  const body = await readBody(req);
  const url = new URL(req.url ?? "/", "http://simulator.invalid");
  const method = req.method ?? "GET";
  if (url.pathname.startsWith(ADMIN_PREFIX)) {
    const refusal = adminRefusal(req.headers, ctx.admin);
    const answer = refusal
      ? { status: 403, body: { error: refusal } }
      : answerAdmin(method, url.pathname, body ?? "", ctx.live, ctx.stats);
    const json = Buffer.from(`${JSON.stringify(answer.body)}\n`);
    res.writeHead(answer.status, { "Content-Type": "application/json", "Content-Length": json.length });
    res.end(json);
    return;
  }
  const match = matchRoute(method, url.pathname);
  const category = match?.route.category ?? UNMATCHED;
  const faults: Faults = match ? ctx.live.faultsFor(match.route.category) : {};
  const rate = ctx.limiter.take(`${category}|${req.socket.remoteAddress}`, faults.rateLimit, ctx.clock.now());
  const plan = planRequest(faults, ctx.rng, ctx.clock.now(), rate);
  ctx.stats.record(category, plan.outcome);

  let answer: RouteAnswer;
  if (plan.error) answer = { kind: "error", ...plan.error };
  else if (body === null) answer = { kind: "error", ...errorForStatus(413) };
  else if (match)
    answer = match.route.answer({
      params: match.params,
      query: url.searchParams,
      body,
      now: ctx.clock.now(),
    });
  else
    answer = {
      kind: "error",
      status: 404,
      errorCode: "NOT_FOUND",
      message: `No such resource: ${url.pathname}`,
    };

  const reply = replyFor(ctx, answer, faults, plan, rate, startedAt);
  deliver(ctx, req, res, reply, plan, faults);
}

function replyFor(
  ctx: Context,
  answer: RouteAnswer,
  faults: Faults,
  plan: Plan,
  rate: RateLimitVerdict,
  startedAt: number,
): Reply {
  const correlationId = randomUUID();
  const payload =
    answer.kind === "json" ? answer.body : errorBody(answer, faults.errorFormat ?? "v1", correlationId);
  return {
    status: answer.status,
    body: Buffer.from(JSON.stringify(payload)),
    headers: () => ({
      "Content-Type": "application/json",
      "Klarna-Correlation-Id": correlationId,
      "X-Ratelimit-Limit": String(rate.limit),
      "X-Ratelimit-Remaining": String(rate.remaining),
      "X-Ratelimit-Reset": String(rate.resetS),
      "Server-Timing": `app;dur=${(ctx.clock.monotonic() - startedAt).toFixed(3)}`,
      ...(plan.retryAfterS === null ? {} : { "Retry-After": String(plan.retryAfterS) }),
    }),
  };
}

function deliver(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  plan: Plan,
  faults: Faults,
): void {
  const send = senderFor(ctx, req, res, reply, plan, faults);
  if (send) ctx.schedule(send, plan.delayMs);
}

/** What to do once the delay is over; null for a request that is never answered (close() drops it). */
function senderFor(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  plan: Plan,
  faults: Faults,
): (() => void) | null {
  switch (plan.delivery) {
    case "hang":
      return null;
    case "reset":
      return () => resetConnection(req);
    case "reset_mid_body":
      return () => sendAndCutMidBody(res, reply);
    case "slow_body": {
      const slow = faults.slowBody!;
      return () => sendSlowly(res, reply, slow.bytesPerSecond, slow.bytes, ctx.schedule);
    }
    case "whole":
      return () => sendWhole(res, reply);
  }
}

/** The request body as text, or null when it is larger than MAX_REQUEST_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_REQUEST_BYTES ? null : Buffer.concat(chunks).toString("utf8");
}
