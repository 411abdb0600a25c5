import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/index.js";
import { renderRules } from "../../src/export/rules.js";

const ROOT = join(import.meta.dirname, "../..");
const COMPOSE_DIR = join(ROOT, "deploy/compose");
const PROMETHEUS_CONFIG = join(COMPOSE_DIR, "prometheus/prometheus.yml");
const ALERTMANAGER_CONFIG = join(COMPOSE_DIR, "alertmanager/alertmanager.yml");
const RULES = join(COMPOSE_DIR, "prometheus/rules/slo-agent.rules.yml");

interface Service {
  build?: { context: string };
  image: string;
  command?: string[];
  volumes?: (string | { type: string; target: string })[];
  ports?: (string | { host_ip?: string; published?: string | number })[];
}
const compose = parse(readFileSync(join(COMPOSE_DIR, "compose.yaml"), "utf8")) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`compose.yaml has no service ${name}`);
  return found;
};
/** Host path -> container path of a service's bind mounts (sources relative to compose.yaml). */
function bindMounts(name: string): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const volume of service(name).volumes ?? []) {
    if (typeof volume !== "string" || !volume.startsWith(".")) continue;
    const [source = "", target = ""] = volume.split(":");
    mounts.set(resolve(COMPOSE_DIR, source), target);
  }
  return mounts;
}

function run(command: string, args: string[]): { status: number | null; stdout: string; output: string } {
  const result = spawnSync(command, args, { cwd: COMPOSE_DIR, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

describe("deploy/compose", () => {
  it("ships the rules `slo-agent rules` generates from slo.yaml (UPDATE_GOLDEN=1 regenerates them)", async () => {
    const { config } = await loadConfig(join(ROOT, "slo.yaml"), { env: {} });
    const rules = renderRules(config);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(RULES, rules);
    expect(readFileSync(RULES, "utf8"), "regenerate with UPDATE_GOLDEN=1 npx vitest run test/deploy").toBe(
      rules,
    );
  });

  it("has a Prometheus config (with those rules) that promtool accepts", () => {
    const check = run("promtool", ["check", "config", PROMETHEUS_CONFIG]);
    expect(check.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
  });

  it("has an Alertmanager config that amtool accepts, paging on severity=page", () => {
    const check = run("amtool", ["check-config", ALERTMANAGER_CONFIG]);
    expect(check.output).toMatch(/SUCCESS/);
    expect(check.status).toBe(0);
    const page = run("amtool", [
      "config",
      "routes",
      "test",
      `--config.file=${ALERTMANAGER_CONFIG}`,
      "severity=page",
    ]);
    expect(page.stdout.trim()).toBe("pager");
    const ticket = run("amtool", [
      "config",
      "routes",
      "test",
      `--config.file=${ALERTMANAGER_CONFIG}`,
      "severity=ticket",
    ]);
    expect(ticket.stdout.trim()).toBe("tickets");
  });

  it("wires the services to each other by name and port", () => {
    const prometheus = parse(readFileSync(PROMETHEUS_CONFIG, "utf8")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    const agentArgs = service("slo-agent").command ?? [];
    const listen = agentArgs[agentArgs.indexOf("--listen") + 1] ?? "";
    const agentJob = prometheus.scrape_configs.find((j) => j.job_name === "slo-agent");
    expect(agentJob?.static_configs[0]?.targets).toEqual([`slo-agent:${listen.split(":")[1]}`]);
    expect(prometheus.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(["alertmanager:9093"]);

    const datasources = parse(
      readFileSync(join(COMPOSE_DIR, "grafana/provisioning/datasources/prometheus.yaml"), "utf8"),
    ) as { datasources: { url: string }[] };
    expect(datasources.datasources[0]?.url).toBe("http://prometheus:9090");
  });

  it("mounts files that exist where each service reads them", () => {
    for (const name of ["slo-agent", "prometheus", "alertmanager", "grafana"]) {
      for (const source of bindMounts(name).keys())
        expect(existsSync(source), `${name}: ${source}`).toBe(true);
    }
    expect(
      existsSync(join(resolve(COMPOSE_DIR, service("slo-agent").build?.context ?? ""), "Dockerfile")),
    ).toBe(true);
    expect(bindMounts("slo-agent").get(join(ROOT, "slo.yaml"))).toBe("/etc/slo-agent/slo.yaml");
    expect(bindMounts("prometheus").get(join(COMPOSE_DIR, "prometheus"))).toBe("/etc/prometheus");
    expect(service("prometheus").command).toContain("--config.file=/etc/prometheus/prometheus.yml");
    expect(bindMounts("alertmanager").get(join(COMPOSE_DIR, "alertmanager"))).toBe("/etc/alertmanager");
    expect(service("alertmanager").command).toContain("--config.file=/etc/alertmanager/alertmanager.yml");

    const providers = parse(
      readFileSync(join(COMPOSE_DIR, "grafana/provisioning/dashboards/slo-agent.yaml"), "utf8"),
    ) as { providers: { options: { path: string } }[] };
    expect(bindMounts("grafana").get(join(ROOT, "dashboards"))).toBe(providers.providers[0]?.options.path);
    expect(bindMounts("grafana").get(join(COMPOSE_DIR, "grafana/provisioning"))).toBe(
      "/etc/grafana/provisioning",
    );
  });

  it("publishes every port on the host's loopback only (none of them asks for credentials)", () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((port) => [name, port] as const),
    );
    expect(published.length).toBeGreaterThanOrEqual(4);
    for (const [name, port] of published) {
      if (typeof port === "string") expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      else expect(port.host_ip, name).toBe("127.0.0.1");
    }
  });
});
