/** The monthly SLA evidence report: built from the store and the configuration, one renderer per format. */
export {
  buildMonthlyReport,
  type EvidenceSource,
  type MonthlyReportInput,
  UnknownCategoryError,
} from "./build.js";
export { bundledReportProblem } from "./bundled-report.js";
export { type Claim, claimOf, hasClaim } from "./claim.js";
export { expectedProbeRuns } from "./coverage.js";
export { detectIncidents, IncidentDetector } from "./incidents.js";
export type * from "./model.js";
export { findChromium, NoChromiumError, PdfRenderError, renderPdf } from "./pdf.js";
export {
  defaultFormat,
  parseFormat,
  REPORT_FORMATS,
  type ReportFormat,
  renderReport,
  TEXT_FORMATS,
  type TextFormat,
  writeAtomically,
} from "./render.js";
export { givenReport, type ReportFileCheck, ReportRefused, verifyReportFile } from "./report-file.js";
export {
  checkReportSignature,
  type ReportCheck,
  ReportUnreadable,
  reportBytes,
  reportDigest,
  signReport,
} from "./signature.js";
export { strictJsonProblem } from "./strict-json.js";
