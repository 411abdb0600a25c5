/**
 * Just enough of Grafana's dashboard JSON model (schemaVersion 39) to build the shipped
 * dashboards from code: panels on a 24-column grid, Prometheus queries and template variables.
 */

/** Grafana's own variable syntax: every panel follows the dashboard's data source picker. */
export const DATASOURCE_VARIABLE = "$" + "{datasource}";
export const DATASOURCE = { type: "prometheus", uid: DATASOURCE_VARIABLE } as const;

export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** One value per series at the dashboard's end time (tables, stats), not a range. */
  readonly instant?: boolean;
}

export type PanelType = "timeseries" | "stat" | "bargauge" | "table" | "state-timeline";

export interface PanelSpec {
  readonly type: PanelType;
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  /** Grafana unit id, e.g. "percentunit", "s", "reqps", "short". */
  readonly unit: string;
  readonly width: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  /** Threshold steps above the base colour, e.g. a burn-rate line at 14.4. */
  readonly thresholds?: readonly { readonly value: number; readonly color: string }[];
  readonly baseColor?: string;
  readonly stacked?: boolean;
  /** A series (by its legend) drawn against its own axis on the right, in its own unit. */
  readonly rightAxis?: { readonly series: string; readonly unit: string };
}

type Json = Record<string, unknown>;

function target(query: Query, index: number): Json {
  return {
    refId: String.fromCharCode(65 + index),
    datasource: DATASOURCE,
    expr: query.expr,
    legendFormat: query.legend ?? "__auto",
    range: !query.instant,
    instant: query.instant ?? false,
    ...(query.instant ? { format: "table" } : {}),
  };
}

function fieldDefaults(spec: PanelSpec): Json {
  const steps = [
    { color: spec.baseColor ?? "green", value: null },
    ...(spec.thresholds ?? []).map((t) => ({ color: t.color, value: t.value })),
  ];
  return {
    unit: spec.unit,
    ...(spec.min === undefined ? {} : { min: spec.min }),
    ...(spec.max === undefined ? {} : { max: spec.max }),
    thresholds: { mode: "absolute", steps },
    ...(spec.type === "timeseries"
      ? {
          custom: {
            drawStyle: "line",
            lineWidth: 1,
            fillOpacity: spec.stacked ? 40 : 0,
            stacking: { mode: spec.stacked ? "normal" : "none", group: "A" },
            thresholdsStyle: { mode: spec.thresholds ? "line" : "off" },
          },
        }
      : {}),
  };
}

function panelOptions(spec: PanelSpec): Json {
  const reduce = { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false } };
  switch (spec.type) {
    case "timeseries":
      return {
        legend: { displayMode: "table", placement: "bottom", calcs: ["lastNotNull", "max"] },
        tooltip: { mode: "multi" },
      };
    case "stat":
      return { ...reduce, colorMode: "background", graphMode: "area", textMode: "value_and_name" };
    case "bargauge":
      return { ...reduce, displayMode: "gradient", orientation: "horizontal", showUnfilled: true };
    case "state-timeline":
      return { showValue: "never", mergeValues: true, legend: { displayMode: "list", placement: "bottom" } };
    case "table":
      return { showHeader: true, cellHeight: "sm" };
  }
}

function rightAxisOverride(axis: { series: string; unit: string }): Json {
  return {
    matcher: { id: "byName", options: axis.series },
    properties: [
      { id: "custom.axisPlacement", value: "right" },
      { id: "unit", value: axis.unit },
      { id: "min", value: 0 },
      { id: "max" },
    ],
  };
}

/** Lays panels out left to right, wrapping at 24 columns, and numbers them. */
export function layoutPanels(specs: readonly PanelSpec[]): Json[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return specs.map((spec, index) => {
    const h = spec.height ?? 8;
    if (x + spec.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w: spec.width, h };
    x += spec.width;
    rowHeight = Math.max(rowHeight, h);
    return {
      id: index + 1,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      gridPos,
      targets: spec.queries.map(target),
      fieldConfig: {
        defaults: fieldDefaults(spec),
        overrides: spec.rightAxis ? [rightAxisOverride(spec.rightAxis)] : [],
      },
      options: panelOptions(spec),
      ...(spec.type === "table" ? { transformations: [{ id: "merge", options: {} }] } : {}),
    };
  });
}

export function datasourceVariable(): Json {
  return {
    name: "datasource",
    label: "Data source",
    type: "datasource",
    query: "prometheus",
    current: {},
    hide: 0,
  };
}

/** A label's values, optionally narrowed by other variables; `multi` adds an All option. */
export function labelVariable(name: string, label: string, metric: string, multi: boolean): Json {
  const definition = `label_values(${metric}, ${name})`;
  return {
    name,
    label,
    type: "query",
    datasource: DATASOURCE,
    definition,
    query: { query: definition, refId: "PrometheusVariableQueryEditor-VariableQuery" },
    refresh: 2,
    sort: 1,
    multi,
    includeAll: multi,
    ...(multi ? { allValue: ".*", current: { text: ["All"], value: ["$__all"] } } : { current: {} }),
    hide: 0,
  };
}

export function dashboard(options: {
  uid: string;
  title: string;
  description: string;
  variables: Json[];
  annotations: Json[];
  panels: readonly PanelSpec[];
  links?: Json[];
}): Json {
  return {
    uid: options.uid,
    title: options.title,
    description: options.description,
    tags: ["slo-agent", "slo"],
    timezone: "utc",
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    templating: { list: [datasourceVariable(), ...options.variables] },
    annotations: { list: options.annotations },
    links: options.links ?? [],
    panels: layoutPanels(options.panels),
  };
}
