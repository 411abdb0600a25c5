import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../../src/model/result.js";
import { canonicalForm } from "../../../src/record/evidence/canonical.js";
import { parseResultLine } from "../../../src/record/index.js";
import { resultProblem } from "../../../src/record/validation.js";

const T = Date.UTC(2026, 9, 1);
const http: ProbeResult = {
  ts: T,
  probe: "payment-request-read",
  category: "payment_request",
  status: 200,
  durationMs: 12.5,
  error: null,
  errorCode: null,
  correlationId: null,
};

describe("the observed detail of a probe kind in the evidence", () => {
  it("a plain HTTP result hashes as before (no observed field); a kind's detail is appended in JCS form", () => {
    expect(canonicalForm(http)).toBe(
      '{"ts":"2026-10-01T00:00:00.000Z","probe":"payment-request-read","category":"payment_request","status":200,"duration_ms":12.5,"error":null,"error_code":null,"correlation_id":null,"phases":null,"server_ms":null}',
    );
    const step = { ...http, observed: { step: "read", flow_run: "r-1", flow: "f" } };
    expect(canonicalForm(step).endsWith(',"observed":{"flow":"f","flow_run":"r-1","step":"read"}}')).toBe(
      true,
    );
  });

  it("a diagnostic success is the one result with neither status nor error", () => {
    const tcp = { ...http, category: "@diagnostic", status: null };
    expect(resultProblem(tcp)).toBe("error must say why when status is null");
    expect(resultProblem({ ...tcp, observed: { kind: "tcp" } })).toBeNull();
    // An HTTP-kind detail does not make a status-less success acceptable.
    expect(resultProblem({ ...tcp, observed: { kind: "flow" } })).toBe(
      "error must say why when status is null",
    );
  });

  it("observed holds names to scalars or lists of strings, nothing nested", () => {
    expect(
      resultProblem({ ...http, observed: { not_run: ["a", "b"], n: 1, ok: true, none: null } }),
    ).toBeNull();
    expect(resultProblem({ ...http, observed: { nested: { a: 1 } } as never })).toMatch(
      /^observed\.nested must be/,
    );
    expect(resultProblem({ ...http, observed: { n: Number.NaN } })).toMatch(/^observed\.n must be/);
  });

  it("NDJSON import reads observed, and refuses a malformed one", () => {
    const line = (observed: unknown) =>
      JSON.stringify({
        ts: "2026-10-01T00:00:00.000Z",
        probe: "api-dns",
        category: "@diagnostic",
        status: null,
        duration_ms: 3,
        error: null,
        observed,
      });
    const parsed = parseResultLine(line({ kind: "dns", rcode: "NOERROR", addresses: ["192.0.2.1"] }), null);
    expect(parsed).toEqual({
      result: expect.objectContaining({
        observed: { kind: "dns", rcode: "NOERROR", addresses: ["192.0.2.1"] },
      }),
    });
    expect(parseResultLine(line({ kind: "dns", deep: { x: 1 } }), null)).toEqual({
      problem: expect.stringMatching(/observed\.deep/),
    });
  });
});
