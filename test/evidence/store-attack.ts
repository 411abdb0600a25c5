import { join } from "node:path";
import Database from "better-sqlite3";
import type { ProbeResult } from "../../src/model/index.js";

/** What the evidence attack suites (reach-head, launder) share: a month of results and raw SQL. */

const HOUR = 3_600_000;
export const CATEGORIES = ["payment_request", "settlements", "disputes"] as const;

/** One 200 result an hour per category in [from, to), a second apart, as the attacks' store holds. */
export function hourly(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    CATEGORIES.forEach((category, i) => {
      out.push({
        ts: t + i * 1000,
        probe: `${category.replaceAll("_", "-")}-read`,
        category,
        status: 200,
        durationMs: 100 + i,
        error: null,
        errorCode: null,
        correlationId: null,
      });
    });
  }
  return out;
}

/** Runs `attack` on `dir`/data/evidence.sqlite opened directly, as someone with the file would. */
export function sql<T>(dir: string, attack: (db: Database.Database) => T): T {
  const db = new Database(join(dir, "data", "evidence.sqlite"));
  try {
    return attack(db);
  } finally {
    db.close();
  }
}
