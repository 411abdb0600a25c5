import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  DASHBOARD_FILES,
  dashboardExpressions,
  dashboardVariableQueries,
  renderDashboard,
} from "../../src/export/dashboards.js";
import { DATASOURCE_VARIABLE } from "../../src/export/grafana.js";
import { exposedSeriesNames } from "../../src/export/names.js";
import { generateRules } from "../../src/export/rules.js";
import { fixtureConfig } from "../support/slo-config.js";
import { metricNamesIn } from "./promql.js";

const DASHBOARDS = join(import.meta.dirname, "../../dashboards");

function recordedNames(): Set<string> {
  const rules = generateRules(fixtureConfig()).groups.flatMap((g) => g.rules);
  return new Set(rules.flatMap((r) => ("record" in r ? [r.record] : [])));
}

const KNOWN = new Set([...exposedSeriesNames(), ...recordedNames(), "ALERTS"]);

interface Panel {
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string };
}

describe("shipped Grafana dashboards", () => {
  for (const [file, build] of Object.entries(DASHBOARD_FILES)) {
    // Read lazily: the golden case below may (re)write the file first.
    const shipped = () => JSON.parse(readFileSync(join(DASHBOARDS, file), "utf8")) as { panels: Panel[] };

    it(`${file} is what the code generates (UPDATE_GOLDEN=1 rewrites it)`, () => {
      const generated = renderDashboard(build);
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(join(DASHBOARDS, file), generated);
      expect(readFileSync(join(DASHBOARDS, file), "utf8")).toBe(generated);
    });

    it(`${file}: every PromQL expression reads only metrics the agent exports or the rules record`, () => {
      const exprs = dashboardExpressions(shipped());
      expect(exprs.length).toBeGreaterThan(5);
      const unknown = exprs.flatMap(({ where, expr }) =>
        metricNamesIn(expr)
          .filter((name) => !KNOWN.has(name))
          .map((name) => `${where}: ${name}`),
      );
      expect(unknown).toEqual([]);
    });

    it(`${file}: variables query exported metrics and every panel uses the datasource variable`, () => {
      const json = shipped();
      for (const v of dashboardVariableQueries(json)) {
        expect(
          metricNamesIn(v.metric).every((n) => KNOWN.has(n)),
          v.name,
        ).toBe(true);
      }
      expect(json.panels.filter((p) => p.datasource.uid !== DATASOURCE_VARIABLE)).toEqual([]);
    });

    it(`${file}: panels have unique ids and fit the 24-column grid without overlapping`, () => {
      const json = shipped();
      expect(new Set(json.panels.map((p) => p.id)).size).toBe(json.panels.length);
      const cells = new Set<string>();
      for (const { gridPos: g, title } of json.panels) {
        expect(g.x + g.w, title).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++) {
          for (let y = g.y; y < g.y + g.h; y++) {
            expect(cells.has(`${x},${y}`), title).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
    });
  }

  it("are templated on region and category, and the drill-down on probe", () => {
    const names = (file: string) =>
      (
        JSON.parse(readFileSync(join(DASHBOARDS, file), "utf8")) as {
          templating: { list: { name: string }[] };
        }
      ).templating.list.map((v) => v.name);
    expect(names("slo-overview.json")).toEqual(["datasource", "region", "category"]);
    expect(names("slo-category.json")).toEqual(["datasource", "region", "category", "probe"]);
  });

  it("the name check catches a metric the agent does not export", () => {
    expect(metricNamesIn('sum by (le) (rate(slo_probe_latency_bucket{category=~"$category"}[5m]))')).toEqual([
      "slo_probe_latency_bucket",
    ]);
    expect(KNOWN.has("slo_probe_latency_bucket")).toBe(false);
  });
});

describe("Grafana provisioning files", () => {
  it("the datasource is a Prometheus one with a uid dashboards can name", () => {
    const file = parse(readFileSync(join(DASHBOARDS, "provisioning/datasources/prometheus.yaml"), "utf8"));
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toEqual([
      expect.objectContaining({ type: "prometheus", uid: "prometheus", access: "proxy" }),
    ]);
  });

  it("the dashboard provider loads JSON files from a path", () => {
    const file = parse(readFileSync(join(DASHBOARDS, "provisioning/dashboards/slo-agent.yaml"), "utf8"));
    expect(file.apiVersion).toBe(1);
    expect(file.providers).toEqual([
      expect.objectContaining({
        type: "file",
        options: expect.objectContaining({ path: expect.any(String) }),
      }),
    ]);
  });
});
