/** TODO(issue 3): metricErrorCode from src/model/catalog.ts once it lands. */
export function vendorErrorLabel(_code: string): string {
  return "OTHER";
}
