import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookSignature } from "../../src/alerts/receivers/webhook.js";
import { systemClock } from "../../src/clock/system.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { httpServer, json, type Loopback, type Route } from "../probes/loopback.js";
import { sleep, spawnAgent } from "./support.js";

/**
 * Alerts while the store is unwritable, under the full daemon: its data directory is a small tmpfs
 * (needs root to mount; skipped and said so otherwise). A webhook receiver refuses at first, so
 * deliveries are retried; meanwhile the disk is filled to the last byte, and then another
 * connection holds the write lock (BEGIN IMMEDIATE, as `slo-agent import` does), while alerts of
 * three categories fire and resolve. Afterwards every notification has arrived exactly once with
 * a valid signature, the agent ran on (exit 0 at SIGTERM), and no probe result was lost.
 */
const SECRET = "webhook-secret-0123456789abcdef";
const CATEGORIES = ["alpha", "beta", "gamma"] as const;
const TROUBLE_MS = 8_000;

const dir = mkdtempSync(join(tmpdir(), "slo-alerts-unwritable-"));
const mountPoint = join(dir, "evidence");
mkdirSync(mountPoint);
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint]).status === 0;
if (!mounted) console.log("alerts-unwritable: cannot mount a tmpfs here (not root?); the case is skipped");

interface Delivered {
  readonly id: number;
  readonly status: string;
  readonly reminder: boolean;
  readonly alert: { readonly labels: Record<string, string>; readonly startsAt: string };
  readonly signed: boolean;
}

async function webhook(accepting: () => boolean): Promise<{ url: string; got: Delivered[]; server: Server }> {
  const got: Delivered[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (!accepting()) return void response.writeHead(503).end();
      const timestamp = String(request.headers["x-slo-agent-timestamp"]);
      const signed = request.headers["x-slo-agent-signature"] === webhookSignature(SECRET, timestamp, body);
      got.push({ ...(JSON.parse(body) as Omit<Delivered, "signed">), signed });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

function writeConfig(api: string, hook: string): void {
  writeFileSync(
    join(dir, "slo.yaml"),
    [
      "version: 1",
      "agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}",
      "service_classes:",
      "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
      "categories:",
      ...CATEGORIES.map(
        (c) => `  ${c}: {title: ${c}, service_class: transaction_critical, latency_p99_ms: 1500}`,
      ),
      "targets:",
      `  api: {base_url: "${api}", environment: simulator}`,
      "probes:",
      ...CATEGORIES.map(
        (c) => `  - {id: ${c}, category: ${c}, target: api, every: 1s, path: /${c}, timeout_ms: 2000}`,
      ),
      "alerting:",
      "  for: 1s",
      "  group_wait: 0s",
      "  group_interval: 1s",
      "  receivers:",
      `    - {id: hook, type: webhook, url: "${hook}", secret: "${SECRET}"}`,
      "",
    ].join("\n"),
  );
}

describe.skipIf(!mounted)(
  "alerts while the store is full, then locked by another writer (real daemon)",
  () => {
    let api: Loopback;
    let hook: Awaited<ReturnType<typeof webhook>>;
    let accepting = false;
    const failing = new Set<string>();
    let stderr = "";
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    let counted = 0;
    let stored = 0;

    beforeAll(async () => {
      const routes = Object.fromEntries(
        CATEGORIES.map((c) => [
          `/${c}`,
          ((_req, res) =>
            failing.has(c)
              ? json(res, 401, { error_code: "UNAUTHORIZED" })
              : json(res, 200, { ok: true })) satisfies Route,
        ]),
      );
      api = await httpServer(routes);
      hook = await webhook(() => accepting);
      writeConfig(api.origin, hook.url);
      const agent = spawnAgent(["run", "--config", "slo.yaml", "--log-format", "json"], { cwd: dir });
      const logged = async (pattern: RegExp, withinMs: number) => {
        const deadline = Date.now() + withinMs;
        while (!pattern.test(agent.output().stderr + agent.output().stdout) && Date.now() < deadline)
          await sleep(200);
      };
      try {
        const url = await agent.listening(90_000);
        // alpha fires while the receiver refuses: its delivery is retried from now on.
        failing.add("alpha");
        await logged(/delivery to hook failed/, 30_000);

        // The disk fills: retries cannot be recorded, and beta fires meanwhile.
        const filler = join(mountPoint, "filler");
        spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
        failing.add("beta");
        await sleep(TROUBLE_MS);
        rmSync(filler);

        // Another writer holds the lock: gamma fires and alpha resolves meanwhile.
        const holder = new Database(join(mountPoint, "evidence.sqlite"));
        holder.exec("BEGIN IMMEDIATE");
        failing.add("gamma");
        failing.delete("alpha");
        await sleep(TROUBLE_MS);
        holder.exec("ROLLBACK");
        holder.close();

        // The receiver accepts; the others recover.
        accepting = true;
        failing.clear();
        const deadline = Date.now() + 120_000;
        const resolvedAll = () =>
          CATEGORIES.every((c) =>
            hook.got.some((d) => d.status === "resolved" && d.alert.labels.category === c),
          );
        while (!resolvedAll() && Date.now() < deadline) await sleep(500);
        // Time for anything sent twice to arrive twice.
        await sleep(5_000);
        // An agent that died meanwhile answers nothing: the cases below then say how it ended.
        const text = await fetch(`${url}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        counted = [...text.matchAll(/^slo_probe_requests_total\{[^}]*\} (\S+)/gm)].reduce(
          (sum, m) => sum + Number(m[1]),
          0,
        );
      } finally {
        agent.child.kill("SIGTERM");
        exit = await agent.exited;
        stderr = agent.output().stderr;
      }
      const store = openEvidenceStore({ dataDir: mountPoint, clock: systemClock, readOnly: true });
      try {
        for (const _ of store.results({ from: 0, to: Date.now() + 1 })) stored++;
      } finally {
        store.close();
      }
    }, 300_000);

    afterAll(async () => {
      await api?.close();
      await new Promise((resolve) => hook?.server.close(resolve));
      spawnSync("umount", ["-l", mountPoint]);
      rmSync(dir, { recursive: true, force: true });
    });

    it("went through both troubles: the store was full and then locked", () => {
      expect(stderr).toMatch(/SQLITE_FULL/);
      expect(stderr).toMatch(/SQLITE_BUSY/);
    });

    it("delivers every firing and resolved notification exactly once, signed", () => {
      const firstOf = hook.got.filter((d) => !d.reminder);
      const seen = firstOf.map((d) => `${d.status} ${JSON.stringify(d.alert.labels)} ${d.alert.startsAt}`);
      expect(seen.length, seen.join("\n")).toBe(new Set(seen).size);
      expect(new Set(hook.got.map((d) => d.id)).size).toBe(hook.got.length);
      expect(hook.got.every((d) => d.signed)).toBe(true);
      for (const c of CATEGORIES) {
        const auth = firstOf.filter(
          (d) => d.alert.labels.category === c && d.alert.labels.alertname === "SLOMeasurementAuthFailed",
        );
        expect(
          auth.map((d) => d.status),
          c,
        ).toEqual(["firing", "resolved"]);
      }
    });

    it("keeps running through it and stops cleanly", () => {
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(exit).toEqual({ code: 0, signal: null });
    });

    it("loses no probe result", () => {
      expect(stderr).not.toMatch(/dropped|dropping/);
      expect(stored).toBeGreaterThanOrEqual(counted);
      expect(counted).toBeGreaterThan(0);
    });
  },
);
