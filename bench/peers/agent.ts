import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { parse, stringify } from "yaml";

const ROOT = join(import.meta.dirname, "../..");
const PROBES_PER_FILE = 1_000;

export interface AgentRun {
  readonly pid: number;
  readonly url: string;
  /** Milliseconds from the spawn to the agent's "listening on" line. */
  readonly listeningMs: number;
  /** Milliseconds from the spawn to the start of the first probe the store holds (null: none yet). */
  firstProbeMs(): number | null;
  /** Durations (ms) of the 200 results the agent sent in [from, to) (epoch ms). */
  durationsBetween(from: number, to: number): number[];
  /** Every result the agent sent in [from, to): its status, duration and whether it is agent_error. */
  resultsBetween(from: number, to: number): RecordedResult[];
  /** Stops the agent (SIGTERM: it flushes the store). */
  stop(): Promise<void>;
  /** Removes its temporary directory; after stop(). */
  cleanup(): void;
}

export interface RecordedResult {
  readonly status: number | null;
  readonly durationMs: number;
  /** The stall guard (or another failure inside the agent) took it off the provider's figures. */
  readonly agentError: boolean;
}

export interface AgentLoad {
  readonly origin: string;
  readonly probes: number;
  readonly everySeconds: number;
  readonly keepAlive: boolean;
  /**
   * Node.js options before the script, as the container's entry point passes them; by default
   * those of dist/cli/main.js's shebang line, as `npx slo-agent run` starts it.
   */
  readonly nodeOptions?: readonly string[];
  /** More agent.* settings (e.g. nice_other_threads: 0, to compare with the default). */
  readonly agentSettings?: Readonly<Record<string, unknown>>;
  /** agent.api_token, for the read API (the month summary). */
  readonly apiToken?: string;
  /** Fills the evidence store (its data directory) before the agent starts; the agent's id is "bench-agent". */
  readonly prepare?: (dataDir: string, probes: readonly { id: string; category: string }[]) => void;
}

/** A script's `#!/usr/bin/env -S NAME=VALUE node ...` line split in its words. */
function shebangWords(script: string): { env: Record<string, string>; options: string[] } {
  const first = readFileSync(script, "utf8").split("\n", 1)[0] ?? "";
  const words = first
    .replace(/^#!\s*/, "")
    .split(/\s+/)
    .filter((w) => w !== "");
  const node = words.findIndex((w) => w === "node" || w.endsWith("/node"));
  if (node === -1) return { env: {}, options: [] };
  const assignments = words.slice(0, node).filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w));
  return {
    env: Object.fromEntries(
      assignments.map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]),
    ),
    options: words.slice(node + 1),
  };
}

/** The Node.js options on a script's `#!/usr/bin/env -S node ...` line (none for `#!/usr/bin/env node`). */
export function shebangOptions(script: string): string[] {
  return shebangWords(script).options;
}

/** The environment a script's shebang line sets before node (`#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node`). */
export function shebangEnv(script: string): Record<string, string> {
  return shebangWords(script).env;
}

/**
 * The real agent (`node dist/cli/main.js run`) on the shipped profile's categories, with its
 * targets replaced by the bench target and `probes` probes spread over the 13 categories.
 */
export async function startAgent(load: AgentLoad): Promise<AgentRun> {
  const dir = mkdtempSync(join(tmpdir(), "slo-bench-agent-"));
  const config = parse(readFileSync(join(ROOT, "slo.yaml"), "utf8")) as Record<string, unknown>;
  const categories = Object.keys(config.categories as Record<string, unknown>);
  config.agent = {
    ...(config.agent as object),
    id: "bench-agent",
    listen: "127.0.0.1:0",
    data_dir: "./data",
    ...(load.apiToken ? { api_token: load.apiToken } : {}),
    ...load.agentSettings,
  };
  config.targets = { bench: { base_url: load.origin, keep_alive: load.keepAlive } };
  config.probes_dir = "./probes";
  delete config.simulator;
  mkdirSync(join(dir, "probes"));
  writeFileSync(join(dir, "slo.yaml"), stringify(config));
  const probes = Array.from({ length: load.probes }, (_, i) => ({
    id: `bench-${i}`,
    category: categories[i % categories.length],
    target: "bench",
    every: `${load.everySeconds}s`,
    method: "GET",
    path: `/bench/${i}`,
    timeout_ms: 10_000,
  }));
  // A probe file holds at most 1 MiB: 10,000 probes go into files of PROBES_PER_FILE.
  for (let i = 0; i * PROBES_PER_FILE < probes.length; i++) {
    const part = probes.slice(i * PROBES_PER_FILE, (i + 1) * PROBES_PER_FILE);
    writeFileSync(join(dir, `probes/bench-${i}.yaml`), stringify(part));
  }
  load.prepare?.(join(dir, "data"), probes as { id: string; category: string }[]);

  // BENCH_AGENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the agent by hand.
  const nodeArgs = (process.env.BENCH_AGENT_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const main = process.env.BENCH_AGENT_MAIN ?? join(ROOT, "dist/cli/main.js");
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(load.nodeOptions ?? shebangOptions(main)),
      ...nodeArgs,
      main,
      "run",
      "--config",
      join(dir, "slo.yaml"),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...shebangEnv(main), ...process.env } },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (\S+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    child.once("exit", (code) => reject(new Error(`agent exited ${code}: ${stderr}`)));
  });
  const listeningMs = Date.now() - spawnedAt;
  const store = join(dir, "data/evidence.sqlite");
  return {
    pid: child.pid!,
    url,
    listeningMs,
    firstProbeMs() {
      const db = new Database(store, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare("SELECT min(ts) AS ts FROM results").get() as { ts: number | null };
        return row.ts === null ? null : row.ts - spawnedAt;
      } finally {
        db.close();
      }
    },
    durationsBetween(from, to) {
      const db = new Database(store, { readonly: true, fileMustExist: true });
      try {
        const rows = db
          .prepare("SELECT duration_ms AS d FROM results WHERE ts >= ? AND ts < ? AND status = 200")
          .all(from, to);
        return (rows as { d: number }[]).map((r) => r.d);
      } finally {
        db.close();
      }
    },
    resultsBetween(from, to) {
      const db = new Database(store, { readonly: true, fileMustExist: true });
      try {
        const rows = db
          .prepare(
            "SELECT status, duration_ms AS d, flags FROM results WHERE ts >= ? AND ts < ? AND probe LIKE 'bench-%'",
          )
          .all(from, to) as { status: number | null; d: number; flags: string | null }[];
        return rows.map((r) => ({
          status: r.status,
          durationMs: r.d,
          agentError: (r.flags ?? "").split(",").includes("agent_error"),
        }));
      } finally {
        db.close();
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
