import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { openEvidenceStore } from "../../src/record/index.js";

/**
 * The categories a feed window is observed with when the provider changes its components after a
 * remap (issue 24, attack round 6, item 1): a component the provider keeps keeps the categories it
 * held; the mapping now in force only adds. Before, the new mapping replaced the window's
 * categories, and the category first announced lost the whole window.
 */

const MINUTE = 60_000;
const T = Date.UTC(2026, 2, 2);
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open() {
  const dir = mkdtempSync(join(tmpdir(), "slo-feed-scope-"));
  dirs.push(dir);
  const clock = new FakeClock(T);
  return { dir, clock, store: openEvidenceStore({ dataDir: dir, clock, logger: () => {} }) };
}

const base = {
  providerId: "sm-1",
  name: "Planned",
  start: T + 10 * MINUTE,
  end: T + 70 * MINUTE,
  providerCreatedAt: T - 30 * MINUTE,
  cancelled: false,
};

describe("a provider's components edit after a remap", () => {
  it("keeps the category a kept component held, and adds the new mapping's from when seen", () => {
    const { clock, store } = open();
    store.feedWindows.observe(
      [
        {
          ...base,
          categories: ["pay"],
          digest: "a".repeat(64),
          components: ["Payments API"],
          componentCategories: { "Payments API": ["pay"] },
        },
      ],
      clock.now(),
    );
    clock.advance(20 * MINUTE);
    // Remapped to [other]; the provider adds a component in no category.
    store.feedWindows.observe(
      [
        {
          ...base,
          categories: ["other"],
          digest: "b".repeat(64),
          components: ["Payments API", "Status page"],
          componentCategories: { "Payments API": ["other"], "Status page": [] },
        },
      ],
      clock.now(),
    );
    const [w] = store.feedWindows.all();
    expect(w?.categories).toEqual(["other", "pay"]);
    expect(w?.history?.map((v) => [v.seenAt, v.categories])).toEqual([
      [T, ["pay"]],
      [T + 20 * MINUTE, ["other", "pay"]],
    ]);
  });

  it("drops the categories of a component the provider removed", () => {
    const { clock, store } = open();
    store.feedWindows.observe(
      [
        {
          ...base,
          categories: ["other", "pay"],
          digest: "a".repeat(64),
          components: ["Payments API", "Web"],
          componentCategories: { "Payments API": ["pay"], Web: ["other"] },
        },
      ],
      clock.now(),
    );
    clock.advance(MINUTE);
    store.feedWindows.observe(
      [
        {
          ...base,
          categories: ["other"],
          digest: "b".repeat(64),
          components: ["Web"],
          componentCategories: { Web: ["other"] },
        },
      ],
      clock.now(),
    );
    expect(store.feedWindows.all()[0]?.categories).toEqual(["other"]);
  });

  it("an observation of an older agent (components without their categories) keeps its categories while none is removed", () => {
    const { dir, clock, store } = open();
    store.feedWindows.observe(
      [{ ...base, categories: ["pay"], digest: "a".repeat(64), components: ["Payments API"] }],
      clock.now(),
    );
    // What an agent before component_categories recorded.
    const db = new Database(join(dir, "evidence.sqlite"));
    try {
      const row = db
        .prepare("SELECT payload FROM input_records WHERE kind = 'maintenance_observation'")
        .pluck()
        .get() as string;
      const payload = JSON.parse(row) as Record<string, unknown>;
      expect(payload.component_categories).toBeUndefined();
    } finally {
      db.close();
    }
    clock.advance(MINUTE);
    store.feedWindows.observe(
      [
        {
          ...base,
          categories: ["other"],
          digest: "b".repeat(64),
          components: ["Payments API", "Status page"],
          componentCategories: { "Payments API": ["other"], "Status page": [] },
        },
      ],
      clock.now(),
    );
    expect(store.feedWindows.all()[0]?.categories).toEqual(["other", "pay"]);
  });
});
