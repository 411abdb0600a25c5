import { parse, validateDetailed } from "node-cron";
import type { EpochMs } from "../model/time.js";

/**
 * Next fire instants of a cron expression, in UTC, on our own clock. node-cron 4 parses and
 * validates (its public `parse`), but its walker is not exported and reads the system clock, so
 * the search over the parsed fields is done here with node-cron's matching rules: every field
 * must match (day-of-month AND day-of-week), plus its L, LW, nW, L-n, n#k and nL day tokens.
 */

type DayToken = number | string;

export interface CronPlan {
  readonly expression: string;
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly DayToken[];
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: readonly DayToken[];
}

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** How far ahead a search goes before declaring the expression never fires (e.g. 30 February). */
const SEARCH_DAYS = 366 * 8;

/** Parses a 5- or 6-field expression; throws a one-line message naming the bad field. */
export function parseCron(expression: string): CronPlan {
  const check = validateDetailed(expression);
  if (!check.valid) {
    const first = check.errors[0];
    throw new RangeError(`invalid cron expression "${expression}": ${first?.message ?? "not understood"}`);
  }
  const f = parse(expression);
  const ascending = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  return {
    expression,
    seconds: ascending(f.second),
    minutes: ascending(f.minute),
    hours: ascending(f.hour),
    daysOfMonth: f.dayOfMonth,
    months: new Set(f.month),
    daysOfWeek: f.dayOfWeek,
  };
}

/** The first instant strictly after `after` (whole seconds, UTC) at which the plan fires. */
export function nextCronFire(plan: CronPlan, after: EpochMs): EpochMs {
  const afterSecond = Math.floor(after / SECOND_MS) * SECOND_MS;
  const startDay = Math.floor(afterSecond / DAY_MS) * DAY_MS;
  for (let i = 0; i < SEARCH_DAYS; i++) {
    const day = startDay + i * DAY_MS;
    if (!dayMatches(plan, day)) continue;
    const found = firstTimeOnDay(plan, day, i === 0 ? afterSecond : day - 1);
    if (found !== null) return found;
  }
  throw new RangeError(`cron expression "${plan.expression}" never fires`);
}

/**
 * The shortest gap between the plan's next `fires` fire times after `after`: a cron schedule's
 * interval as a config warning estimates it (the tightest its runs come).
 */
export function shortestGapMs(plan: CronPlan, after: EpochMs, fires = 16): number {
  let gap = Number.POSITIVE_INFINITY;
  let previous = nextCronFire(plan, after);
  for (let i = 1; i < fires; i++) {
    const next = nextCronFire(plan, previous);
    gap = Math.min(gap, next - previous);
    previous = next;
  }
  return gap;
}

function firstTimeOnDay(plan: CronPlan, day: EpochMs, after: EpochMs): EpochMs | null {
  for (const h of plan.hours) {
    if (day + (h + 1) * 3_600_000 <= after) continue;
    for (const m of plan.minutes) {
      for (const s of plan.seconds) {
        const t = day + h * 3_600_000 + m * 60_000 + s * SECOND_MS;
        if (t > after) return t;
      }
    }
  }
  return null;
}

function dayMatches(plan: CronPlan, day: EpochMs): boolean {
  const d = new Date(day);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const date = d.getUTCDate();
  if (!plan.months.has(month)) return false;
  return (
    plan.daysOfMonth.some((t) => dayOfMonthMatches(t, year, month, date)) &&
    plan.daysOfWeek.some((t) => dayOfWeekMatches(t, year, month, date, d.getUTCDay()))
  );
}

function lastDayOf(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayOfMonthMatches(token: DayToken, year: number, month: number, date: number): boolean {
  if (typeof token === "number") return token === date;
  const last = lastDayOf(year, month);
  if (token === "L") return date === last;
  const weekday = /^(\d{1,2}|L)W$/.exec(token);
  if (weekday) return nearestWeekday(year, month, weekday[1] === "L" ? last : Number(weekday[1])) === date;
  const offset = /^L-(\d{1,2})$/.exec(token);
  if (offset) return last - Number(offset[1]) === date;
  return false;
}

function dayOfWeekMatches(token: DayToken, year: number, month: number, date: number, wd: number): boolean {
  if (typeof token === "number") return token % 7 === wd;
  const nth = /^([0-7])#([1-5])$/.exec(token);
  if (nth) return Number(nth[1]) % 7 === wd && Math.floor((date - 1) / 7) + 1 === Number(nth[2]);
  const lastOf = /^([0-7])L$/i.exec(token);
  if (lastOf) return Number(lastOf[1]) % 7 === wd && date + 7 > lastDayOf(year, month);
  return false;
}

// Quartz-style nW: the weekday closest to day n without leaving the month.
function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOf(year, month);
  if (target < 1 || target > last) return -1;
  const wd = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
  if (wd === 6) return target === 1 ? target + 2 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}
