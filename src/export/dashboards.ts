import type { SloConfig } from "../model/config.js";
import { categoryDashboard } from "./dashboard-category.js";
import { overviewDashboard } from "./dashboard-overview.js";

/** Files under dashboards/ and the function that builds each. */
export const DASHBOARD_FILES: Readonly<Record<string, (config?: SloConfig) => Record<string, unknown>>> = {
  "slo-overview.json": overviewDashboard,
  "slo-category.json": categoryDashboard,
};

export function renderDashboard(
  build: (config?: SloConfig) => Record<string, unknown>,
  config?: SloConfig,
): string {
  return `${JSON.stringify(build(config), null, 2)}\n`;
}

export interface DashboardExpression {
  /** "panel <title>", "annotation <name>" or "variable <name>". */
  readonly where: string;
  readonly expr: string;
}

interface DashboardShape {
  panels?: { title: string; targets?: { expr: string }[] }[];
  annotations?: { list?: { name: string; expr?: string }[] };
  templating?: { list?: { name: string; definition?: string }[] };
}

/** Every PromQL expression of a dashboard JSON: panel targets and annotation queries. */
export function dashboardExpressions(json: unknown): DashboardExpression[] {
  const d = json as DashboardShape;
  return [
    ...(d.panels ?? []).flatMap((p) =>
      (p.targets ?? []).map((t) => ({ where: `panel ${p.title}`, expr: t.expr })),
    ),
    ...(d.annotations?.list ?? []).flatMap((a) =>
      a.expr ? [{ where: `annotation ${a.name}`, expr: a.expr }] : [],
    ),
  ];
}

/** The label_values(metric, label) queries of a dashboard's template variables. */
export function dashboardVariableQueries(json: unknown): { name: string; metric: string; label: string }[] {
  const d = json as DashboardShape;
  return (d.templating?.list ?? []).flatMap((v) => {
    const match = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.definition ?? "");
    return match ? [{ name: v.name, metric: match[1]!, label: match[2]! }] : [];
  });
}

/** Grafana's template variables, replaced the way Grafana does with "All" selected. */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(
    /\$(__rate_interval|__range|__interval|[a-z_]+)/g,
    (whole, name: string) => values[name] ?? whole,
  );
}
