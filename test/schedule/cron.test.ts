import { createTask } from "node-cron";
import { describe, expect, it } from "vitest";
import { nextCronFire, parseCron } from "../../src/schedule/cron.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

/** Next fires from `from`, n of them. */
function fires(expression: string, from: string, n: number): string[] {
  const plan = parseCron(expression);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    t = nextCronFire(plan, t);
    out.push(iso(t));
  }
  return out;
}

describe("cron next fire (UTC)", () => {
  const cases: [string, string, string, string[]][] = [
    [
      "six fields fire on the named seconds",
      "*/30 * * * * *",
      "2026-10-01T00:00:00.000Z",
      ["2026-10-01T00:00:30.000Z", "2026-10-01T00:01:00.000Z"],
    ],
    [
      "five fields fire at second 0",
      "*/5 * * * *",
      "2026-10-01T00:03:10.500Z",
      ["2026-10-01T00:05:00.000Z", "2026-10-01T00:10:00.000Z"],
    ],
    [
      "the instant itself is not next (strictly after)",
      "0 * * * *",
      "2026-10-01T01:00:00.000Z",
      ["2026-10-01T02:00:00.000Z"],
    ],
    [
      "monthly crosses the month end",
      "0 0 1 * *",
      "2026-01-31T12:00:00.000Z",
      ["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
    ],
    [
      "L is the last day of each month (leap year)",
      "0 0 L * *",
      "2028-01-31T00:00:00.000Z",
      ["2028-02-29T00:00:00.000Z", "2028-03-31T00:00:00.000Z"],
    ],
    [
      "weekdays only skip the weekend",
      "0 9 * * 1-5",
      "2026-10-02T10:00:00.000Z",
      ["2026-10-05T09:00:00.000Z", "2026-10-06T09:00:00.000Z"],
    ],
    [
      "n#k is the k-th weekday of the month",
      "0 0 * * 1#1",
      "2026-10-01T00:00:00.000Z",
      ["2026-10-05T00:00:00.000Z"],
    ],
    [
      "day of month AND day of week must both match (node-cron semantics)",
      "0 0 13 * 5",
      "2026-01-01T00:00:00.000Z",
      ["2026-02-13T00:00:00.000Z", "2026-03-13T00:00:00.000Z", "2026-11-13T00:00:00.000Z"],
    ],
  ];
  for (const [rule, expression, from, expected] of cases) {
    it(rule, () => expect(fires(expression, from, expected.length)).toEqual(expected));
  }

  it("agrees with node-cron's own matcher, and nothing in between matches", () => {
    for (const expression of ["*/7 * * * * *", "15,45 */2 * * * *", "0 */10 9-17 * * 1-5"]) {
      const task = createTask(expression, () => {}, { timezone: "UTC" });
      try {
        const plan = parseCron(expression);
        let t = at("2026-10-05T08:58:00.000Z");
        for (let i = 0; i < 20; i++) {
          const next = nextCronFire(plan, t);
          expect(task.match(new Date(next)), `${expression} at ${iso(next)}`).toBe(true);
          for (let s = Math.floor(t / 1000) * 1000 + 1000; s < next; s += 1000) {
            expect(task.match(new Date(s)), `${expression} skipped ${iso(s)}`).toBe(false);
          }
          t = next;
        }
      } finally {
        task.destroy();
      }
    }
  });

  const invalid: [string, RegExp][] = [
    ["bogus", /invalid cron expression "bogus": expected 5 or 6 fields/],
    ["61 * * * *", /invalid cron expression "61 \* \* \* \*": 61 is a invalid expression for minute/],
  ];
  for (const [expression, message] of invalid) {
    it(`rejects "${expression}" with a one-line message`, () => {
      expect(() => parseCron(expression)).toThrow(message);
    });
  }

  it("rejects a day that never exists (30 February) up front", () => {
    expect(() => parseCron("0 0 30 2 *")).toThrow(/^invalid cron expression "0 0 30 2 \*"/);
  });
});
