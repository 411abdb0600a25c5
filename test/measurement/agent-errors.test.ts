import { connect, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { sleep } from "../export/live-processes.js";
import { answering, cleanUp, configFor, onCleanup, report, runAgent } from "./agent-runs.js";

afterAll(cleanUp);

const EPISODE_LOGGED = "agent_error: requests fail inside the agent";

describe("failures inside the agent (contract section 8)", { timeout: 150_000 }, () => {
  it("file descriptors exhausted (RLIMIT_NOFILE 256, idle connections to /metrics): agent_error, never the provider's", async () => {
    const config = configFor({ provider: await answering(200), keepAlive: false });
    const idle: Socket[] = [];
    onCleanup(() => {
      for (const s of idle) s.destroy();
    });
    let freed = false;
    const run = await runAgent(config, () => freed, {
      prefix: ["prlimit", "--nofile=256:256"],
      during: async (url, agent) => {
        const port = Number(new URL(url).port);
        // The prober thread loads its modules once the agent listens: flooded before that (a
        // loaded machine), it could not open them, and no run was made to fail. What is tested
        // is a running prober's requests failing for want of descriptors.
        for (
          let i = 0;
          i < 100 && !/^slo_probe_requests_total\{/m.test(await (await fetch(`${url}/metrics`)).text());
          i++
        )
          await sleep(100);
        // Idle connections until the agent has no descriptor left for its probes (it logs the
        // episode); topped up in case some were dropped. Then freed so that it stops cleanly.
        for (let round = 0; round < 120 && !agent.output().includes(EPISODE_LOGGED); round++) {
          if (idle.length < 1_000) {
            for (let i = 0; i < (round === 0 ? 300 : 20); i++) {
              const socket = connect(port, "127.0.0.1");
              socket.on("error", () => {});
              idle.push(socket);
            }
          }
          await sleep(500);
        }
        expect(agent.output()).toContain(EPISODE_LOGGED);
        for (const s of idle) s.destroy();
        await sleep(500);
        freed = true;
      },
    });
    expect(run.metrics).toBeDefined();
    const json = JSON.parse(report(run.dir));
    const episodes = json.automatic_exclusions.filter((x: { reason: string }) => x.reason === "agent_error");
    expect(episodes.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(episodes[0].evidence)).toMatch(/EMFILE/);
    const automatic = episodes.reduce((n: number, x: { requests: number }) => n + x.requests, 0);
    expect(json.categories[0].excluded).toBe(automatic);
    // Nothing the agent failed to send was booked against the provider.
    const connectFailures = json.incidents.filter((i: object) => JSON.stringify(i).includes("connect"));
    expect(connectFailures).toEqual([]);
    // The runs the agent could not make are said, not silent (attack 24e item 4), in every format.
    const fdWarning = new RegExp(
      `the agent ran out of file descriptors \\(EMFILE/ENFILE\\) between \\S+ and \\S+: ${automatic} runs? (was|were) unmeasured \\(agent_error, excluded from these figures\\)`,
    );
    expect(json.warnings.filter((w: string) => fdWarning.test(w))).toHaveLength(1);
    for (const format of ["markdown", "html", "csv"])
      expect(report(run.dir, format), format).toMatch(/ran out of file descriptors/);
  });
});
