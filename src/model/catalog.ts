import catalogData from "./catalog/klarna-errors.json" with { type: "json" };

/**
 * The vendor's statuses and error codes as data (from the Klarna statuses-and-error-codes seed).
 * Lookups only: labels for metrics and wording for reports.
 */

export type CatalogKind = "order_status" | "dispute_status" | "error_code";
export type CatalogFrequency = "common" | "occasional" | "rare";
/** The seed's resolution tier, T0 (most codes) to T2 (vendor risk refusals). */
export type ResolutionTier = "T0" | "T1" | "T2";
/** What a client should do on seeing the code. */
export type RetryAdvice =
  | "none"
  | "do_not_retry"
  | "correct_and_resubmit"
  | "new_session"
  | "backoff"
  | "retry_after";

export interface CatalogEntry {
  readonly code: string;
  readonly kind: CatalogKind;
  readonly title: string;
  readonly description: string;
  /** The seed's level words, e.g. ["Error", "Decline"]. */
  readonly level: readonly string[];
  readonly frequency: CatalogFrequency;
  readonly tier: ResolutionTier;
  /** HTTP statuses the seed names for the code; empty where it names none. */
  readonly httpStatuses: readonly number[];
  readonly retry: RetryAdvice;
}

/** The metric label for a vendor code the catalogue does not know (contract section 5). */
export const OTHER_ERROR_CODE = "OTHER";

export const CATALOG: readonly CatalogEntry[] = catalogData.entries as readonly CatalogEntry[];

const byCode: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.code, e]));

/** The entry for a code, tolerating case and surrounding blanks; undefined when unknown. */
export function catalogEntry(code: string | null | undefined): CatalogEntry | undefined {
  if (!code) return undefined;
  const trimmed = code.trim();
  return byCode.get(trimmed) ?? byCode.get(trimmed.toUpperCase()) ?? byCode.get(upperPrefix(trimmed));
}

/** The code itself when the catalogue knows it, else OTHER: keeps metric label cardinality bounded. */
export function metricErrorCode(code: string | null | undefined): string {
  return catalogEntry(code)?.code ?? OTHER_ERROR_CODE;
}

/** Entries the seed ties to an HTTP status, for reports explaining a status. */
export function catalogEntriesForStatus(status: number): readonly CatalogEntry[] {
  return CATALOG.filter((e) => e.httpStatuses.includes(status));
}

// "bad_value:locale" -> "BAD_VALUE:locale": the field part after the colon keeps its case.
function upperPrefix(code: string): string {
  const colon = code.indexOf(":");
  return colon < 0 ? code.toUpperCase() : code.slice(0, colon).toUpperCase() + code.slice(colon);
}
