import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CATALOG, catalogEntriesForStatus, catalogEntry, metricErrorCode } from "../../src/model/catalog.js";

const SEED = "/work/shared/seeds/klarna-statuses-and-error-codes.txt";

/** Codes as they stand on their own line in the seed, read independently of the generator. */
function seedCodes(): string[] {
  const lines = readFileSync(SEED, "utf8")
    .split("\n")
    .map((l) => l.trim());
  const from = lines.indexOf("Order Status");
  const to = lines.findIndex((l) => l.startsWith("Articles you may find"));
  return lines.slice(from, to).filter((l) => /^[A-Z][A-Z_]+(:[a-z_]+)?$/.test(l));
}

describe("the vendor error catalogue", () => {
  it.skipIf(!existsSync(SEED))("holds every status and error code of the seed, once", () => {
    const codes = seedCodes();
    expect(codes.length).toBeGreaterThan(40);
    expect(CATALOG.map((e) => e.code).sort()).toEqual([...codes].sort());
  });

  it("gives every entry a title, level, frequency, tier and retry advice", () => {
    for (const e of CATALOG) {
      expect(e.title.length, e.code).toBeGreaterThan(0);
      expect(e.level.length, e.code).toBeGreaterThan(0);
      expect(["common", "occasional", "rare"]).toContain(e.frequency);
      expect(["T0", "T1", "T2"]).toContain(e.tier);
      expect(e.retry.length).toBeGreaterThan(0);
    }
  });

  const cases: [string, string | null, string][] = [
    ["a known code is its own metric label", "NOT_FOUND", "NOT_FOUND"],
    ["a field-qualified code is known", "BAD_VALUE:locale", "BAD_VALUE:locale"],
    ["case and blanks do not matter", " bad_value ", "BAD_VALUE"],
    ["an unknown code becomes OTHER", "SOMETHING_NEW", "OTHER"],
    ["no code becomes OTHER", null, "OTHER"],
  ];
  for (const [rule, code, label] of cases) {
    it(`metricErrorCode: ${rule}`, () => expect(metricErrorCode(code)).toBe(label));
  }

  it("knows the HTTP statuses and retry advice the seed states", () => {
    expect(catalogEntry("TOO_MANY_REQUESTS")).toMatchObject({ httpStatuses: [429], retry: "retry_after" });
    expect(catalogEntry("TEMPORARILY_UNAVAILABLE")?.httpStatuses).toEqual([502, 503, 504]);
    expect(catalogEntry("REFUSED")).toMatchObject({
      kind: "order_status",
      tier: "T2",
      retry: "do_not_retry",
    });
    expect(catalogEntriesForStatus(403).map((e) => e.code)).toContain("CAPTURE_NOT_ALLOWED");
  });
});
