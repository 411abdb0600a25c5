/** Shared pieces of the inline SVG charts: escaping, number formatting and the palette. */

/** Every string that came from data goes through this before it enters HTML or SVG. */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Coordinates to one decimal: crisp enough on screen and in print, and short. */
export function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export const PALETTE = {
  ink: "#1f2933",
  muted: "#616e7c",
  grid: "#e4e7eb",
  good: "#2f855a",
  bad: "#c53030",
  objective: "#c05621",
  series: "#2b6cb0",
  maintenance: "#718096",
  maintenanceUnqualified: "#dd6b20",
  exclusion: "#3182ce",
  incident: "#c53030",
  unmonitored: "#a0aec0",
} as const;

export interface PanelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Lays out `count` small multiples in a grid of `columns`, returning each panel's plot box. */
export function gridPanels(
  count: number,
  columns: number,
  panel: { width: number; height: number },
): PanelBox[] {
  return Array.from({ length: count }, (_, i) => ({
    x: (i % columns) * panel.width,
    y: Math.floor(i / columns) * panel.height,
    width: panel.width,
    height: panel.height,
  }));
}

/** Days of the month as numbers 1..N from the report's period. */
export function daysInPeriod(start: string, end: string): number {
  return Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000);
}
