import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { HostileCase } from "../agent/hostile-servers.js";
import { httpServer, json, type Loopback, type Route, tcpServer } from "../probes/loopback.js";

/**
 * The hostile behaviours of issue 12 that test/agent/hostile-servers.ts does not already serve:
 * headers at one byte a second, a silent socket, an endless body, a gzip bomb, 429 storms,
 * HTTP/1.0 close-delimited bodies, malformed status lines and headers, and TLS that is bad in
 * each way an operator meets (expired, wrong host, untrusted issuer) beside a valid certificate
 * from the same private CA, which the agent trusts through NODE_EXTRA_CA_CERTS.
 */
export interface ExtraServers {
  readonly cases: readonly HostileCase[];
  /** The private CA's certificate file, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  close(): Promise<void>;
}

interface Certificates {
  readonly caFile: string;
  readonly key: string;
  readonly valid: string;
  readonly expired: string;
  readonly wrongHost: string;
  readonly untrusted: { key: string; cert: string };
}

/** A private CA and leaf certificates made with the openssl binary in `dir`. */
function makeCertificates(dir: string): Certificates {
  const ssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  const ca = (name: string) => {
    ssl(
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`].concat([
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
      ]),
    );
  };
  ca("reliability-ca");
  ca("stranger-ca");
  ssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=leaf",
    "-keyout",
    "leaf.key",
    "-out",
    "leaf.csr",
  ]);
  const leaf = (out: string, issuer: string, san: string, days: string) => {
    writeFileSync(join(dir, `${out}.ext`), `subjectAltName=${san}\n`);
    ssl(
      [
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        `${issuer}.pem`,
        "-CAkey",
        `${issuer}.key`,
        "-CAcreateserial",
      ].concat(["-days", days, "-extfile", `${out}.ext`, "-out", `${out}.pem`]),
    );
    return readFileSync(join(dir, `${out}.pem`), "utf8");
  };
  const valid = leaf("valid", "reliability-ca", "IP:127.0.0.1", "2");
  // -days -1: not after is a day before not before, so the certificate has already expired.
  const expired = leaf("expired", "reliability-ca", "IP:127.0.0.1", "-1");
  const wrongHost = leaf("wrong-host", "reliability-ca", "DNS:wrong-host.example", "2");
  const untrustedCert = leaf("untrusted", "stranger-ca", "IP:127.0.0.1", "2");
  const key = readFileSync(join(dir, "leaf.key"), "utf8");
  return {
    caFile: join(dir, "reliability-ca.pem"),
    key,
    valid,
    expired,
    wrongHost,
    untrusted: { key, cert: untrustedCert },
  };
}

async function tlsServer(key: string, cert: string): Promise<Loopback> {
  const sockets = new Set<Socket>();
  const server = createHttpsServer({ key, cert }, (_req, res) => json(res, 200, { status: "AUTHORIZED" }));
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** 1 MiB chunks for as long as the client reads, never ending. */
function endlessBody(res: ServerResponse): void {
  const chunk = Buffer.alloc(1 << 20, 121);
  res.writeHead(200, { "content-type": "application/octet-stream" });
  let open = true;
  res.on("close", () => {
    open = false;
  });
  const pump = () => {
    while (open) if (!res.write(chunk)) return void res.once("drain", pump);
  };
  pump();
}

/** 256 MiB of zeros, gzipped to about 256 KiB. */
const GZIP_BOMB = gzipSync(Buffer.alloc(256 << 20), { level: 9 });

function extraRoutes(): Record<string, Route> {
  return {
    "/endless-body": (_req, res) => endlessBody(res),
    "/gzip-bomb": (_req, res) =>
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(GZIP_BOMB),
    "/gzip-bomb-error": (_req, res) =>
      res.writeHead(400, { "content-type": "application/json", "content-encoding": "gzip" }).end(GZIP_BOMB),
    "/storm": (_req, res) => json(res, 429, { error_code: "RATE_LIMITED", correlation_id: "corr-storm" }),
    "/storm-zero": (_req, res) =>
      json(res, 429, { error_code: "RATE_LIMITED", correlation_id: "corr-storm0" }, { "retry-after": "0" }),
  };
}

/** A raw TCP server answering the first bytes of a request with `reply` (then closing), or doing nothing. */
function rawReply(reply: string | null, drip = false) {
  return tcpServer((socket) => {
    socket.on("error", () => {});
    if (reply === null) return; // accept and stay silent
    socket.once("data", () => {
      if (!drip) return void socket.end(reply);
      // One byte a second: headers that never finish within a probe's timeout.
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || i >= reply.length) return clearInterval(timer);
        socket.write(reply[i++]!);
      }, 1_000);
      socket.on("close", () => clearInterval(timer));
    });
  });
}

export async function startExtraServers(): Promise<ExtraServers> {
  const certDir = mkdtempSync(join(tmpdir(), "slo-reliability-tls-"));
  const certs = makeCertificates(certDir);
  const api = await httpServer(extraRoutes());
  const tls = {
    valid: await tlsServer(certs.key, certs.valid),
    expired: await tlsServer(certs.key, certs.expired),
    wrongHost: await tlsServer(certs.key, certs.wrongHost),
    untrusted: await tlsServer(certs.untrusted.key, certs.untrusted.cert),
  };
  const okBody = '{"status":"AUTHORIZED"}';
  const raw = {
    drip: await rawReply(
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
      true,
    ),
    silent: await rawReply(null),
    http10: await rawReply(`HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n${okBody}`),
    closeDelimited: await rawReply(
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${okBody}`,
    ),
    badStatus: await rawReply("HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"),
    twoLengths: await rawReply(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n${okBody}`),
    badHeader: await rawReply(`HTTP/1.1 200 OK\r\nX-Bad\u0000Header: 1\r\nContent-Length: 2\r\n\r\n{}`),
  };
  const c = (id: string, baseUrl: string, path = "/ok", timeoutMs = 2_000): HostileCase => ({
    id,
    baseUrl,
    path,
    timeoutMs,
  });
  const cases: HostileCase[] = [
    c("headers-1-byte-per-second", raw.drip.origin, "/ok", 1_500),
    c("silent-socket", raw.silent.origin, "/ok", 1_500),
    c("endless-body", api.origin, "/endless-body", 3_000),
    c("gzip-bomb", api.origin, "/gzip-bomb"),
    c("gzip-bomb-error", api.origin, "/gzip-bomb-error"),
    c("429-storm", api.origin, "/storm"),
    c("429-storm-retry-after-0", api.origin, "/storm-zero"),
    c("http-1.0-close-delimited", raw.http10.origin),
    c("http-1.1-close-delimited", raw.closeDelimited.origin),
    c("malformed-status-line", raw.badStatus.origin),
    c("conflicting-content-length", raw.twoLengths.origin),
    c("malformed-header", raw.badHeader.origin),
    c("tls-valid", tls.valid.origin),
    c("tls-expired", tls.expired.origin),
    c("tls-wrong-host", tls.wrongHost.origin),
    c("tls-untrusted-issuer", tls.untrusted.origin),
  ];
  const servers: Loopback[] = [api, ...Object.values(tls), ...Object.values(raw)];
  return {
    cases,
    caFile: certs.caFile,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}
