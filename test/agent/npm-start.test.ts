import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../export/live-processes.js";

const ROOT = join(import.meta.dirname, "../..");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  return !alive(pid);
}

/** `npm start -- demo ...` in its own process group, as a shell would start it in a terminal. */
async function npmStart(dataDir: string) {
  const child = spawn("npm", ["start", "--", "demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => {
    output += d;
  });
  child.stderr!.on("data", (d) => {
    output += d;
  });
  // "close", not "exit": only when every holder of the pipes (npm, sh, the launcher, the agent) has
  // gone is all of their output read; "exit" can come before the agent's last lines are.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!/listening on http/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`npm start did not come up:\n${output}`);
    await sleep(100);
  }
  // The agent names its own pid in the data dir it holds.
  const agentPid = (JSON.parse(await readFile(join(dataDir, "agent.pid"), "utf8")) as { pid: number }).pid;
  return { child, agentPid, exited, output: () => output };
}

describe("npm start", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slo-npm-start-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("does not rebuild when dist/ is newer than every source", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "scripts/start.mjs"), "--version"], {
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(run.stderr).not.toContain("building");
  });

  it("kill <npm pid> stops the agent too: no node process is left behind", async () => {
    const started = await npmStart(join(dir, "term"));
    try {
      expect(started.agentPid).not.toBe(started.child.pid);
      process.kill(started.child.pid!, "SIGTERM");
      await started.exited;
      expect(await gone(started.agentPid), started.output()).toBe(true);
    } finally {
      if (alive(started.agentPid)) process.kill(started.agentPid, "SIGKILL");
    }
  }, 60_000);

  it("Ctrl-C (SIGINT to the whole process group) stops everything cleanly, the agent with exit 0", async () => {
    const started = await npmStart(join(dir, "int"));
    try {
      process.kill(-started.child.pid!, "SIGINT");
      await started.exited;
      expect(await gone(started.agentPid), started.output()).toBe(true);
      expect(started.output()).toContain('"msg":"stopping"');
      expect(started.output()).not.toMatch(/exit code 130|ELIFECYCLE/);
    } finally {
      if (alive(started.agentPid)) process.kill(started.agentPid, "SIGKILL");
    }
  }, 60_000);
});
