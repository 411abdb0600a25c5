import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpProbeSpec, Target } from "../../src/model/config.js";

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP(S) server on port 0 that answers by path; close() ends every connection. */
export interface Loopback {
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: Server | NetServer, sockets: Set<Socket>): Promise<number> {
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function closer(server: Server | NetServer, sockets: Set<Socket>): () => Promise<void> {
  return async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

export async function httpServer(routes: Record<string, Route>): Promise<Loopback> {
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => dispatch(routes, req, res));
  const port = await listen(server, sockets);
  return { origin: `http://127.0.0.1:${port}`, port, close: closer(server, sockets) };
}

export async function httpsServer(routes: Record<string, Route>): Promise<Loopback> {
  const { key, cert } = selfSignedCertificate();
  const sockets = new Set<Socket>();
  const server = createHttpsServer({ key, cert }, (req, res) => dispatch(routes, req, res));
  const port = await listen(server, sockets);
  return { origin: `https://127.0.0.1:${port}`, port, close: closer(server, sockets) };
}

/** A raw TCP server: `onSocket` decides what a client gets (garbage, a reset, silence). */
export async function tcpServer(onSocket: (socket: Socket) => void): Promise<Loopback> {
  const sockets = new Set<Socket>();
  const server = createNetServer(onSocket);
  const port = await listen(server, sockets);
  return { origin: `http://127.0.0.1:${port}`, port, close: closer(server, sockets) };
}

const handedOut = new Set<number>();

/** The lowest port the kernel hands out for `listen(0)` and outgoing connections. */
export function ephemeralPortsFrom(): number {
  const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
    .trim()
    .split(/\s+/)
    .map(Number);
  return low ?? 32768;
}

/**
 * A port nothing listens on: connecting to it is refused. It is taken below the kernel's
 * ephemeral range, where no `listen(0)` of another test can land on it while it is in use (a
 * port just freed by port 0 was handed to another test's server, and the "refused" target
 * answered 404), and checked free on 127.0.0.1 before it is handed out.
 */
export async function closedPort(): Promise<number> {
  const top = ephemeralPortsFrom() - 1;
  const bottom = Math.max(10_000, top - 15_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no closed port found between ${bottom} and ${top}`);
}

async function bindable(port: number): Promise<boolean> {
  const server = createNetServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function dispatch(routes: Record<string, Route>, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const route = routes[path];
  if (route) route(req, res);
  else res.writeHead(599).end();
}

let cached: { key: string; cert: string } | undefined;

/** A self-signed certificate made with the openssl binary, as an operator would. */
export function selfSignedCertificate(): { key: string; cert: string } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "slo-probes-tls-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        .concat(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .concat(["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]),
      { stdio: "ignore" },
    );
    cached = {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function target(baseUrl: string, overrides: Partial<Target> = {}): Target {
  return {
    id: "klarna",
    baseUrl,
    environment: "simulator",
    auth: { type: "none" },
    headers: {},
    maxRequestsPerSecond: null,
    keepAlive: true,
    tlsVerify: true,
    ...overrides,
  };
}

export function httpSpec(path: string, overrides: Partial<HttpProbeSpec> = {}): HttpProbeSpec {
  return {
    kind: "http",
    id: "probe-under-test",
    category: "payment_request",
    target: "klarna",
    schedule: { kind: "every", intervalMs: 30_000 },
    method: "GET",
    path,
    headers: {},
    body: null,
    timeoutMs: 5_000,
    writes: false,
    followRedirects: 0,
    maxBodyBytes: 1 << 20,
    source: { file: "probes/test.yaml", line: 1 },
    ...overrides,
  };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}
