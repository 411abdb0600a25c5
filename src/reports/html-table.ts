/** The HTML renderer's table cells and badges; every text that came from data is escaped here. */
import { formatInstant, type Verdict } from "./format.js";
import { escapeXml as e } from "./svg.js";

export type Cell = string | { readonly html: string; readonly num?: boolean };

export function pill(verdict: Verdict, detail = ""): string {
  const css = verdict === "no data" ? "nodata" : verdict;
  return `<span class="pill ${css}">${verdict}${detail ? ` (${e(detail)})` : ""}</span>`;
}

/** A title over its id; the id may wrap after its underscores (personalized_message_placements is long). */
export function named(title: string, id: string): string {
  return `${e(title)}<span class="id">${e(id).replaceAll("_", "_<wbr>")}</span>`;
}

/** Text cells are escaped here; pre-built HTML cells are marked as such by their producer. */
export function table(
  header: readonly Cell[],
  rows: readonly { cells: readonly Cell[]; missed?: boolean; detail?: string }[],
): string {
  const cell = (tag: string, c: Cell) =>
    typeof c === "string"
      ? `<${tag}>${e(c)}</${tag}>`
      : `<${tag}${c.num ? ' class="num"' : ""}>${c.html}</${tag}>`;
  const head = `<tr>${header.map((h) => cell("th", h)).join("")}</tr>`;
  const body = rows.map((r) => {
    const row = `<tr${r.missed ? ' class="missed"' : ""}>${r.cells.map((c) => cell("td", c)).join("")}</tr>`;
    // A detail line under its row, across every column (correlation ids are too long for a column).
    const detail = r.detail ? `<tr class="detail"><td colspan="${header.length}">${r.detail}</td></tr>` : "";
    return row + detail;
  });
  return `<table><thead>${head}</thead><tbody>${body.join("")}</tbody></table>`;
}

export const num = (text: string): Cell => ({ html: e(text), num: true });
/** An instant that must not wrap between its date and its time. */
export const when = (iso: string): Cell => ({ html: `<span class="when">${e(formatInstant(iso))}</span>` });
export const mark = (text: string, bad: boolean): Cell => ({
  html: bad ? `<span class="bad">${e(text)}</span>` : e(text),
  num: true,
});
