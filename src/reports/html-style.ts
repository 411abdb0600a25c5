/** The report's only stylesheet, inlined: system fonts, no network, light on screen and on paper. */
export const REPORT_CSS = `
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee4; --good: #2f855a; --bad: #c53030; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: var(--ink);
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 28px 48px; background: #fff; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 22px; }
header .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); }
h1 { font-size: 26px; margin: 4px 0 6px; }
h2 { font-size: 18px; margin: 0 0 10px; padding-top: 6px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
section { margin: 26px 0; }
.meta { color: var(--muted); font-size: 13px; }
.context { display: flex; flex-wrap: wrap; gap: 4px 24px; margin: 10px 0 0; font-size: 13px; }
.context div { display: flex; gap: 6px; min-width: 0; }
.context dt { color: var(--muted); }
.context dd { margin: 0; overflow-wrap: anywhere; }
.preliminary { margin-top: 10px; padding: 8px 14px; border-radius: 6px; font-weight: 600; color: #744210;
  background: #fffbeb; border: 1px solid #f6e05e; }
.verdict { display: inline-block; margin-top: 10px; padding: 8px 14px; border-radius: 6px; font-weight: 600;
  border: 1px solid; }
.verdict.met { color: var(--good); background: #f0fff4; border-color: #9ae6b4; }
.verdict.missed { color: var(--bad); background: #fff5f5; border-color: #feb2b2; }
.verdict.nodata { color: var(--muted); background: #f7fafc; border-color: var(--line); }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .value { font-size: 20px; font-weight: 600; }
.card .label { font-size: 12px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
.pill { white-space: normal; }
/* The summary has eleven columns: tighter cells keep it inside the card at 1280 px. */
#summary th, #summary td { padding: 6px 5px; }
th { font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.missed td { background: #fff8f8; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.id { color: var(--muted); font-size: 11px; display: block; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.pill.met { color: var(--good); background: #e6f6ec; }
.pill.missed { color: var(--bad); background: #fde8e8; }
.pill.nodata { color: var(--muted); background: #edf0f3; }
.bad { color: var(--bad); font-weight: 600; }
figure { margin: 14px 0 20px; }
figcaption { font-size: 13px; color: var(--muted); margin-bottom: 6px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg .panel-title { font-size: 12px; font-weight: 600; fill: var(--ink); }
svg .tick { font-size: 10px; fill: var(--muted); }
svg .row-label { font-size: 11px; fill: var(--ink); }
.digest { word-break: break-all; background: #f7fafc; border: 1px solid var(--line); padding: 8px 10px; border-radius: 4px; }
tr.detail td { padding-top: 0; color: var(--muted); font-size: 11px; }
tr:has(+ tr.detail) td { border-bottom: none; }
.label { font-weight: 600; margin-right: 4px; }
.ids { overflow-wrap: anywhere; }
.ids code { font-size: 11px; margin-right: 6px; overflow-wrap: anywhere; }
.incident-table td, .incident-table th { overflow-wrap: anywhere; }
.digest.statement { word-break: normal; overflow-wrap: normal; }
.digest.statement .tok { white-space: nowrap; }
.digest.statement .tok.long { white-space: normal; overflow-wrap: anywhere; }
.plain-words { color: var(--muted); font-size: 12.5px; font-style: italic; margin: 4px 0; }
.keep-together { break-inside: avoid; }
.incident-table td:last-child { width: 38%; }
svg .panel-title.compact { font-size: 10.5px; }
.when { white-space: nowrap; }
ul.plain { margin: 6px 0; padding-left: 20px; }
.notes { margin-top: 12px; padding: 8px 12px; border-left: 3px solid #d69e2e; background: #fffbeb; font-size: 13px; }
.notes p { margin: 0; font-weight: 600; }
tr.detail .note { color: #975a16; font-size: 12px; margin-top: 2px; }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  .merchant-note { display: none; }
  body { background: #fff; font-size: 10px; }
  th, td { padding: 3px 6px; }
  table { font-size: 10px; line-height: 1.3; }
  h2 { font-size: 15px; margin: 8px 0 4px; padding-top: 4px; }
  main { max-width: none; padding: 0; }
  figure, tr, h2, .notes { break-inside: avoid; }
  /* Condensed so that a 13-category month prints on six pages; nothing is left out. */
  header { padding-bottom: 8px; margin-bottom: 10px; }
  h1 { font-size: 20px; margin: 2px 0 4px; }
  h3 { font-size: 11px; margin: 8px 0 2px; break-after: avoid; }
  section { margin: 8px 0; }
  section p { margin: 3px 0; }
  .meta { font-size: 9.5px; }
  .cards { margin-top: 8px; gap: 8px; }
  .card { padding: 4px 10px; }
  .card .value { font-size: 15px; }
  .card .label { font-size: 9.5px; }
  figure { margin: 4px 0 8px; }
  figcaption { font-size: 9.5px; margin-bottom: 2px; }
  th { font-size: 9.5px; }
  #summary th, #summary td, th, td { padding: 2px 5px; }
  .id { font-size: 9px; }
  code, .mono { font-size: 9.5px; }
  tr.detail td { font-size: 9px; padding-bottom: 3px; }
  .ids code { font-size: 9px; margin-right: 4px; }
  .digest { padding: 4px 8px; }
  .verdict, .preliminary { margin-top: 6px; padding: 3px 10px; }
  #incidents h3 { display: inline-block; margin: 4px 10px 1px 0; }
  #incidents h3 + p.meta { display: inline; }
  svg.chart { max-width: 84%; }
  svg.chart[data-chart=timeline] { max-width: 76%; }
  #service-classes .id { display: inline; margin-left: 6px; }
  #incidents p.meta { margin: 1px 0 2px; }
  footer { margin-top: 8px; font-size: 9px; }
  #evidence p { margin: 2px 0; }
  #evidence .digest, #evidence pre { font-size: 8.5px; margin: 0; padding: 2px 6px; }
  .incident-table td, .latency-incidents td { padding: 1px 5px; }
  .incident-table table, .latency-incidents table { font-size: 9.5px; }
  h2 { break-after: avoid; }
  .plain-words { font-size: 8.5px; margin: 1px 0; }
  .verdict, .pill, tr.missed td, .digest, .notes { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
