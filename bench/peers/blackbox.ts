import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's package name for blackbox_exporter, then the upstream one. */
const BINARIES = ["prometheus-blackbox-exporter", "blackbox_exporter"];

export function blackboxBinary(): { path: string; version: string } | null {
  for (const name of BINARIES) {
    const found = spawnSync(name, ["--version"], { encoding: "utf8" });
    if (found.status === 0) {
      const text = `${found.stdout}${found.stderr}`;
      return { path: name, version: /version (\S+)/.exec(text)?.[1] ?? "unknown" };
    }
  }
  return null;
}

export interface BlackboxRun {
  readonly pid: number;
  /** The /probe URL that probes `target` once with the http_2xx module. */
  probeUrl(target: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, "close");
  return port;
}

/** blackbox_exporter with one plain HTTP module, as a user would run it against an API. */
export async function startBlackbox(binary: string): Promise<BlackboxRun> {
  const dir = mkdtempSync(join(tmpdir(), "slo-bench-blackbox-"));
  writeFileSync(
    join(dir, "blackbox.yml"),
    "modules:\n  http_2xx:\n    prober: http\n    timeout: 10s\n    http:\n      preferred_ip_protocol: ip4\n",
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, "blackbox.yml")}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/-/healthy`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    probeUrl: (target) => `${base}/probe?module=http_2xx&target=${encodeURIComponent(target)}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
