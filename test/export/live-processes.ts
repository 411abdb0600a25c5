import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../support/eventually.js";
import { freePort, type Running, startProcess } from "../support/processes.js";

// Shared with every suite (test/support/); re-exported for the suites that import them from here.
export { eventually, sleep } from "../support/eventually.js";
export { freePort, type Running, startProcess } from "../support/processes.js";

/** Starts /usr/bin/prometheus scraping `target`(s) every second with `rulesFile`, evaluating every second. */
export async function startPrometheus(
  dir: string,
  target: string | readonly string[],
  rulesFile: string,
): Promise<{ url: string; process: Running }> {
  const port = await freePort();
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      `rule_files: [${JSON.stringify(rulesFile)}]`,
      "scrape_configs:",
      "  - job_name: slo-agent",
      `    static_configs: [{targets: ${JSON.stringify(typeof target === "string" ? [target] : target)}}]`,
      "",
    ].join("\n"),
  );
  const process = startProcess(
    "/usr/bin/prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.console.templates=/dev/null",
      "--web.console.libraries=/dev/null",
    ],
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (process.child.exitCode !== null) throw new Error(`prometheus exited\n${process.output()}`);
      const ready = await fetch(`${url}/-/ready`).catch(() => null);
      return ready?.ok ? true : null;
    },
    60_000,
    "prometheus /-/ready",
  );
  return { url, process };
}

export interface QueryAnswer {
  readonly status: "success" | "error";
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: readonly { metric: Record<string, string> }[];
  };
}

export async function instantQuery(prometheus: string, expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await response.json()) as QueryAnswer;
}
