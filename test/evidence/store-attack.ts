import { join } from "node:path";
import Database from "better-sqlite3";
import type { ProbeResult } from "../../src/model/index.js";

/** What the evidence suites share: months of results to store, and raw SQL on a store. */

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

/** One payment_request result an hour in [from, to), a 503 every seventh hour (a bundle's month). */
export function hourlyPaymentRequests(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: t % (7 * HOUR) === 0 ? 503 : 200,
      durationMs: 100,
      error: null,
      errorCode: null,
      correlationId: null,
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
