import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, type Loopback } from "../probes/loopback.js";
import { eventually } from "../support/eventually.js";
import { startAgent } from "../support/processes.js";

/** Each thread of `pid` and its nice value (/proc/PID/task/TID/stat, field 19). */
function threadNice(pid: number): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // The command name (field 2) may hold spaces: the fields after it are counted from its ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      nice.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended while being read.
    }
  }
  return nice;
}

function configFor(origin: string, extra: string): string {
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence${extra}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
targets:
  api: {base_url: "${origin}"}
probes:
  - {id: payment-request-read, category: payment_request, target: api, every: 1s, path: /ok}
`;
}

describe.skipIf(process.platform !== "linux")(
  "the prober thread's lead over the agent's other threads",
  () => {
    let api: Loopback;
    let dir: string;
    const base = getPriority();

    beforeAll(async () => {
      api = await httpServer({ "/ok": (_req, res) => res.writeHead(200).end("{}") });
      dir = await mkdtemp(join(tmpdir(), "slo-nice-"));
    });
    afterAll(async () => {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function run(extra: string) {
      await writeFile(join(dir, "slo.yaml"), configFor(api.origin, extra));
      return startAgent("run", ["--config", join(dir, "slo.yaml")], { cwd: dir });
    }

    it("by default leaves the prober at the process's priority and puts every other thread 10 nice steps below", async () => {
      const { agent, url } = await run("");
      try {
        const pid = agent.child.pid!;
        await eventually(
          () => /lower CPU priority than the prober's/.test(agent.stderr()),
          30_000,
          "the log line",
          {
            context: agent.output,
          },
        );
        const nice = threadNice(pid);
        const prober = [...nice].filter(([, n]) => n === base).map(([tid]) => tid);
        // One thread keeps the priority it was started with: the prober's, not the main thread.
        expect(prober).toHaveLength(1);
        expect(prober[0]).not.toBe(pid);
        // Everything else — the main thread, V8's and libuv's threads — is lower.
        const others = [...nice].filter(([tid]) => tid !== prober[0]);
        expect(others.length).toBeGreaterThanOrEqual(3);
        for (const [, n] of others) expect(n).toBe(Math.min(19, base + 10));
        expect(nice.get(pid)).toBe(Math.min(19, base + 10));
        // And probes still run: the prober keeps working at its own priority.
        const scraped = async () => (await fetch(`${url}/metrics`)).text();
        await eventually(
          async () => /slo_probe_duration_seconds_count\{[^}]*\} [1-9]/.test(await scraped()),
          20_000,
          "a probe",
        );
      } finally {
        await agent.stop();
      }
    });

    it("with agent.nice_other_threads: 0 leaves every thread at the process's priority", async () => {
      const { agent } = await run(", nice_other_threads: 0");
      try {
        const pid = agent.child.pid!;
        await eventually(() => threadNice(pid).size >= 4 && threadNice(pid), 10_000, "the agent's threads");
        // Give the prober thread time to start and say which thread it is.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(new Set(threadNice(pid).values())).toEqual(new Set([base]));
        expect(agent.stderr()).not.toMatch(/lower CPU priority/);
      } finally {
        await agent.stop();
      }
    });

    it("refuses a value outside 0 to 19 with the reason", async () => {
      const { runCli } = await import("../support/cli.js");
      await writeFile(join(dir, "bad.yaml"), configFor(api.origin, ", nice_other_threads: 25"));
      const outcome = await runCli(["check-config", "--config", join(dir, "bad.yaml")], { cwd: dir });
      expect(outcome.code).toBe(2);
      expect(outcome.stderr + outcome.stdout).toMatch(/agent\.nice_other_threads.*at most 19/);
    });
  },
);
