/** How the suites learn where an agent or the demo's simulator listens (test/support/processes.ts). */
import { describe, expect, it } from "vitest";
import { announcedUrl } from "../support/announced.js";

describe("the announced URL", () => {
  it("is read from the plain lines run and demo print", () => {
    const out = "listening on http://127.0.0.1:40123\nsimulator on http://127.0.0.1:40124\n";
    expect(announcedUrl(out)).toBe("http://127.0.0.1:40123");
    expect(announcedUrl(out, "simulator")).toBe("http://127.0.0.1:40124");
  });

  it("is read from a JSON log line whose msg says so, among other records", () => {
    const out = [
      '{"level":"info","time":"2026-10-01T00:00:00.000Z","msg":"evidence store opened"}',
      '{"level":"info","time":"2026-10-01T00:00:00.001Z","msg":"listening on http://[::1]:40125"}',
      "",
    ].join("\n");
    expect(announcedUrl(out)).toBe("http://[::1]:40125");
  });

  it("is read from a JSON record that carries the URL beside a bare msg", () => {
    expect(announcedUrl('{"level":"info","msg":"listening","url":"http://127.0.0.1:40126"}\n')).toBe(
      "http://127.0.0.1:40126",
    );
  });

  it("is not there before the line is, nor from a half-written JSON line", () => {
    expect(announcedUrl("starting\n")).toBeUndefined();
    expect(announcedUrl('{"level":"info","msg":"listening on http://127.0.0.1:4')).toBeUndefined();
    expect(announcedUrl("listening on http://127.0.0.1:4")).toBeUndefined();
    expect(announcedUrl("simulator on http://127.0.0.1:40124\n")).toBeUndefined();
  });
});
