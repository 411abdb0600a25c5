import type { Socket } from "node:net";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { HttpProbeSpec, Target } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import { DISCARDED_BYTES_MAX } from "../../src/probes/exchange.js";
import { createTargetDispatcher, httpProbe, runProbe } from "../../src/probes/index.js";
import { eventually } from "../support/eventually.js";
import {
  closedPort,
  httpServer,
  httpSpec,
  httpsServer,
  json,
  type Loopback,
  target,
  tcpServer,
} from "./loopback.js";

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((o) => o.close()));
});

async function probe(t: Target, spec: HttpProbeSpec, signal?: AbortSignal) {
  const dispatcher: Dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    return await runProbe({ spec, target: t, dispatcher, clock: systemClock, signal });
  } finally {
    await dispatcher.destroy();
  }
}

/** What the HTTP probe observed of one exchange with `origin` (no result classification). */
async function observe(origin: string, spec: HttpProbeSpec) {
  const t = target(origin);
  const dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    return await httpProbe.observe(spec, {
      target: t,
      dispatcher,
      clock: systemClock,
      signal: new AbortController().signal,
      startedAt: systemClock.monotonic(),
    });
  } finally {
    await dispatcher.destroy();
  }
}

let api: Loopback;
const held: Socket[] = [];

beforeAll(async () => {
  api = await httpServer({
    "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }, { "klarna-correlation-id": "corr-200" }),
    "/moved": (_req, res) => res.writeHead(302, { location: "/ok" }).end(),
    "/loop": (_req, res) => res.writeHead(302, { location: "/loop" }).end(),
    "/missing": (_req, res) =>
      json(res, 404, {
        error_code: "NOT_FOUND",
        error_messages: ["Order not found"],
        correlation_id: "corr-v1",
      }),
    "/down": (_req, res) =>
      json(res, 503, {
        error_id: "err-123",
        error_type: "SERVICE_UNAVAILABLE",
        error_code: "TEMPORARILY_UNAVAILABLE",
        errors: [{ code: "TEMPORARILY_UNAVAILABLE", message: "try later" }],
      }),
    "/header-correlation": (_req, res) =>
      res.writeHead(500, { "klarna-correlation-id": "corr-header" }).end("<html>oops</html>"),
    "/html-error": (_req, res) =>
      res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gw</html>"),
    "/truncated-error": (_req, res) =>
      res
        .writeHead(400, { "content-type": "application/json" })
        .end(
          `{"error_code":"BAD_VALUE","correlation_id":"corr-cut","error_messages":["${"x".repeat(5000)}"]}`,
        ),
    "/forbidden-empty": (_req, res) => res.writeHead(403).end(),
    "/forbidden-klarna": (_req, res) =>
      json(res, 403, { error_code: "NOT_ALLOWED", correlation_id: "c-403" }),
    "/slow-headers": (_req, res) => {
      held.push(res.socket!);
    },
    "/slow-body": (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"partial":');
    },
    "/reset-mid-body": (_req, res) => {
      res.writeHead(200, { "content-length": "100000" });
      res.write("x".repeat(1000), () => res.socket?.resetAndDestroy());
    },
    "/big": (_req, res) => {
      const chunk = Buffer.alloc(1 << 20, 120);
      res.writeHead(200, { "content-length": String(50 * chunk.length) });
      let sent = 0;
      const pump = () => {
        while (sent < 50) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    },
  });
  open.push(api);
});

describe("HTTP probe: status classes", () => {
  const cases: [string, string, number, Partial<HttpProbeSpec>][] = [
    ["a 200 is recorded with its status", "/ok", 200, {}],
    ["a 302 is not followed by default", "/moved", 302, {}],
    ["a 302 is followed when follow_redirects > 0", "/moved", 200, { followRedirects: 2 }],
    ["a 404 is a served response", "/missing", 404, {}],
    ["a 503 is recorded with its status", "/down", 503, {}],
  ];
  for (const [rule, path, status, overrides] of cases) {
    it(rule, async () => {
      const { result } = await probe(target(api.origin), httpSpec(path, overrides));
      expect(result).toMatchObject({
        status,
        error: null,
        probe: "probe-under-test",
        category: "payment_request",
      });
      expect(result.durationMs).toBeGreaterThan(0);
      expect(result.durationMs).toBe(result.phases?.ttfbMs);
    });
  }

  it("a redirect loop with follow_redirects 5 ends as the last 3xx, flagged redirect_limit", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/loop", { followRedirects: 5 }));
    expect(result).toMatchObject({ status: 302, error: null, flags: ["redirect_limit"] });
    expect(result.detail).toBe("still redirected after 5 hops");
  });
});

describe("HTTP probe: vendor error codes and correlation ids", () => {
  const cases: [string, string, string | null, string | null][] = [
    ["v1 format {error_code, correlation_id}", "/missing", "NOT_FOUND", "corr-v1"],
    ["newer format {error_id, error_code, errors[]}", "/down", "TEMPORARILY_UNAVAILABLE", "err-123"],
    ["the Klarna-Correlation-Id header, body not JSON", "/header-correlation", null, "corr-header"],
    ["a non-JSON error body yields nothing and breaks nothing", "/html-error", null, null],
    ["a 200 keeps the header correlation id", "/ok", null, "corr-200"],
  ];
  for (const [rule, path, errorCode, correlationId] of cases) {
    it(rule, async () => {
      const { result } = await probe(target(api.origin), httpSpec(path));
      expect(result).toMatchObject({ errorCode, correlationId, error: null });
    });
  }

  it("an error body truncated at max_body_bytes still yields its leading fields", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/truncated-error", { maxBodyBytes: 200 }));
    expect(result).toMatchObject({ status: 400, errorCode: "BAD_VALUE", correlationId: "corr-cut" });
    expect(result.flags).toContain("body_capped");
  });

  it("a 403 without an error body is flagged as a probable edge block", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/forbidden-empty"));
    expect(result).toMatchObject({ status: 403, flags: ["edge_block"] });
  });

  it("a 403 with a vendor error body is not an edge block", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/forbidden-klarna"));
    expect(result).toMatchObject({ status: 403, errorCode: "NOT_ALLOWED", flags: [] });
  });
});

describe("HTTP probe: failure reasons", () => {
  it("timeout on slow headers, recorded at exactly the timeout value", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/slow-headers", { timeoutMs: 300 }));
    expect(result).toMatchObject({ status: null, error: "timeout", durationMs: 300 });
  });

  it("connect when the port is closed", async () => {
    const port = await closedPort();
    const { result } = await probe(target(`http://127.0.0.1:${port}`), httpSpec("/ok"));
    expect(result).toMatchObject({ status: null, error: "connect" });
    expect(result.detail).toMatch(/ECONNREFUSED/);
  });

  it("dns when the host name does not resolve", async () => {
    const { result } = await probe(target("http://nonexistent.invalid"), httpSpec("/ok"));
    expect(result).toMatchObject({ status: null, error: "dns" });
  });

  it("tls when the certificate is self-signed", async () => {
    const tls = await httpsServer({ "/ok": (_req, res) => json(res, 200, {}) });
    open.push(tls);
    const { result } = await probe(target(tls.origin), httpSpec("/ok"));
    expect(result).toMatchObject({ status: null, error: "tls" });
    const trusting = await probe(target(tls.origin, { tlsVerify: false }), httpSpec("/ok"));
    expect(trusting.result).toMatchObject({ status: 200, error: null });
  });

  it("reset when the connection is reset before a response", async () => {
    const rst = await tcpServer((socket) => socket.once("data", () => socket.resetAndDestroy()));
    open.push(rst);
    const { result } = await probe(target(rst.origin), httpSpec("/ok"));
    expect(result).toMatchObject({ status: null, error: "reset" });
  });

  it("protocol when the server answers garbage bytes", async () => {
    const garbage = await tcpServer((socket) =>
      socket.once("data", () => socket.end("SSH-2.0-OpenSSH\r\n\r\n")),
    );
    open.push(garbage);
    const { result } = await probe(target(garbage.origin), httpSpec("/ok"));
    expect(result).toMatchObject({ status: null, error: "protocol" });
    expect(result.detail).toMatch(/HTTPParserError|HPE_/);
  });

  it("aborted when the agent stops the run", async () => {
    const stop = new AbortController();
    const running = probe(target(api.origin), httpSpec("/slow-headers", { timeoutMs: 10_000 }), stop.signal);
    setTimeout(() => stop.abort(), 100);
    const { result } = await running;
    expect(result).toMatchObject({ status: null, error: "aborted" });
    expect(result.durationMs).toBeLessThan(10_000);
  });
});

describe("HTTP probe: bodies", () => {
  it("a slow body keeps the status and records the body timeout", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/slow-body", { timeoutMs: 2_000 }));
    expect(result).toMatchObject({ status: 200, error: null, bodyError: "timeout" });
    expect(result.durationMs).toBeLessThan(2_000);
    expect(result.detail).toMatch(/^body: /);
  });

  it("a reset mid-body keeps the status and records the reset", async () => {
    const { result } = await probe(target(api.origin), httpSpec("/reset-mid-body"));
    expect(result).toMatchObject({ status: 200, error: null, bodyError: "reset" });
  });

  it("a 50 MiB body is read to the end, kept only up to the cap, without blowing memory", async () => {
    const before = process.memoryUsage().arrayBuffers;
    const { result } = await probe(target(api.origin), httpSpec("/big", { timeoutMs: 20_000 }));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(result).toMatchObject({ status: 200, error: null, bodyError: null, flags: ["body_capped"] });
    expect(result.phases?.bodyEndMs).not.toBeNull();
    expect(grown).toBeLessThan(45 << 20);
  });

  it("cuts an endless body 8 MiB past max_body_bytes and closes its connection, long before the deadline", async () => {
    // The server writes 1 MiB chunks until the client goes; before the cut, the probe read them at
    // loopback speed until its deadline (gigabytes, a third of the prober's time in GC).
    let written = 0;
    let closed = false;
    const endless = await httpServer({
      "/endless": (_req, res) => {
        const chunk = Buffer.alloc(1 << 20, 121);
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.on("close", () => {
          closed = true;
        });
        const pump = () => {
          while (!closed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
        };
        pump();
      },
    });
    open.push(endless);
    const seen = await observe(
      endless.origin,
      httpSpec("/endless", { maxBodyBytes: 1 << 20, timeoutMs: 120_000 }),
    );
    expect(seen.status).toBe(200);
    expect(seen.body.length).toBe(1 << 20);
    expect(seen.bodyError).toBeNull();
    expect(seen.flags).toEqual(["body_capped"]);
    await eventually(async () => (closed ? true : null), 30_000, "the server sees its connection closed");
    // Written: the kept MiB, the 8 MiB discarded and what the socket buffers held (a few MiB);
    // not two minutes of loopback writes.
    expect(written).toBeGreaterThan((1 << 20) + DISCARDED_BYTES_MAX);
    expect(written).toBeLessThan(64 << 20);
  });

  it("keeps exactly max_body_bytes of a larger body", async () => {
    const seen = await observe(api.origin, httpSpec("/big", { maxBodyBytes: 300_000 }));
    expect(seen.status).toBe(200);
    expect(seen.body.length).toBe(300_000);
    expect(seen.flags).toEqual(["body_capped"]);
  });
});

describe("HTTP probe: phases", () => {
  it("are present and ordered dns <= connect <= sent <= ttfb <= bodyEnd on a fresh connection", async () => {
    const { result } = await probe(target(`http://localhost:${api.port}`), httpSpec("/ok"));
    const p = result.phases!;
    expect(result.status).toBe(200);
    for (const v of [p.dnsMs, p.connectMs, p.requestSentMs, p.ttfbMs, p.bodyEndMs]) expect(v).not.toBeNull();
    expect(p.tlsMs).toBeNull();
    expect(p.dnsMs!).toBeLessThanOrEqual(p.connectMs!);
    expect(p.connectMs!).toBeLessThanOrEqual(p.requestSentMs!);
    expect(p.requestSentMs!).toBeLessThanOrEqual(p.ttfbMs!);
    expect(p.ttfbMs!).toBeLessThanOrEqual(p.bodyEndMs!);
    expect(result.serverMs).not.toBeNull();
    expect(result.serverMs!).toBeLessThanOrEqual(p.ttfbMs!);
  });

  it("include tls between connect and sent over HTTPS", async () => {
    const tls = await httpsServer({ "/ok": (_req, res) => json(res, 200, {}) });
    open.push(tls);
    const { result } = await probe(target(tls.origin, { tlsVerify: false }), httpSpec("/ok"));
    const p = result.phases!;
    expect(p.dnsMs).toBeNull(); // an IP literal needs no lookup
    expect(p.connectMs!).toBeLessThanOrEqual(p.tlsMs!);
    expect(p.tlsMs!).toBeLessThanOrEqual(p.requestSentMs!);
  });
});

describe("HTTP probe: credentials and redirects", () => {
  // Regression: header credentials (X-Api-Key, Authorization set in `headers`) followed a redirect
  // to another origin; only `auth:` credentials were stripped.
  const seenBy = new Map<string, Record<string, string | string[] | undefined>[]>();
  const remember = (server: string) => (req: { headers: Record<string, string | string[] | undefined> }) => {
    seenBy.set(server, [...(seenBy.get(server) ?? []), req.headers]);
  };
  let provider: Loopback;
  let elsewhere: Loopback;

  beforeAll(async () => {
    elsewhere = await httpServer({
      "/collect": (req, res) => {
        remember("elsewhere")(req);
        res.writeHead(302, { location: `${provider.origin}/landing` }).end();
      },
    });
    provider = await httpServer({
      "/away": (req, res) => {
        remember("provider")(req);
        res.writeHead(302, { location: `${elsewhere.origin}/collect` }).end();
      },
      "/here": (req, res) => {
        remember("provider")(req);
        res.writeHead(307, { location: "/landing" }).end();
      },
      "/landing": (req, res) => {
        remember("landing")(req);
        json(res, 200, {});
      },
    });
    open.push(provider, elsewhere);
  });

  const credentialed = () =>
    target(provider.origin, {
      auth: { type: "bearer", token: new Secret("auth-canary-token") },
      headers: { "x-api-key": new Secret("header-canary-key"), "x-merchant-ref": "plain-canary" },
    });
  const spec = (path: string) =>
    httpSpec(path, {
      followRedirects: 3,
      headers: {
        cookie: new Secret("session=cookie-canary"),
        authorization: new Secret("Basic probe-canary"),
      },
    });
  const canaries = /auth-canary-token|header-canary-key|plain-canary|cookie-canary|probe-canary/;

  it("a redirect to another origin carries no configured header and no auth, and none come back", async () => {
    seenBy.clear();
    const { result } = await probe(credentialed(), spec("/away"));
    expect(result).toMatchObject({ status: 200, error: null });
    expect(JSON.stringify(seenBy.get("provider"))).toMatch(/header-canary-key/);
    expect(seenBy.get("elsewhere")).toHaveLength(1);
    expect(JSON.stringify(seenBy.get("elsewhere"))).not.toMatch(canaries);
    // Bounced back to the provider's origin, the chain has already left it once: still nothing.
    expect(JSON.stringify(seenBy.get("landing"))).not.toMatch(canaries);
    expect(seenBy.get("elsewhere")?.[0]?.authorization).toBeUndefined();
  });

  it("a redirect within the same origin keeps every configured header", async () => {
    seenBy.clear();
    const { result } = await probe(credentialed(), spec("/here"));
    expect(result).toMatchObject({ status: 200, error: null });
    const landed = seenBy.get("landing")?.[0] ?? {};
    expect(landed["x-api-key"]).toBe("header-canary-key");
    expect(landed["x-merchant-ref"]).toBe("plain-canary");
    expect(landed.authorization).toBe("Bearer auth-canary-token");
    expect(landed.cookie).toBe("session=cookie-canary");
  });
});
