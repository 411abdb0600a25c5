import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configurationReference, withCurrentReference } from "../../src/config/reference.js";

const DOC = join(import.meta.dirname, "../../docs/configuration.md");

describe("docs/configuration.md", () => {
  it("carries the key reference generated from the current schema (UPDATE_GOLDEN=1 rewrites it)", () => {
    const committed = readFileSync(DOC, "utf8");
    const current = withCurrentReference(committed);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(DOC, current);
    else expect(committed, "run: npx tsx scripts/gen-config-reference.ts").toBe(current);
  });

  it.each([
    "`version`",
    "`categories.<id>.latency_p99_ms`",
    "`targets.<id>.auth.password_file`",
    "`maintenance.policy.max_hours_per_year`",
    "`[].writes`",
    "`[].schedule`",
  ])("documents %s", (key) => {
    expect(configurationReference()).toContain(`| ${key} |`);
  });
});
