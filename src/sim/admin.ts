/**
 * The admin API under /__sim/, for tests and the demo to change faults while the simulator runs.
 * Probes never call it and it is never counted in the stats.
 */
import { ConfigError, formatProblem } from "../config/problems.js";
import type { LiveScenario } from "./live-scenario.js";
import { SIM_CATEGORIES, type SimCategory } from "./routes.js";
import { parseFaults, parseScenario } from "./scenario-file.js";
import { faultsToWire, scenarioToWire } from "./scenario-schema.js";
import type { RequestStats } from "./stats.js";

export const ADMIN_PREFIX = "/__sim/";

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

const CATEGORY_PATH = /^\/__sim\/scenario\/categories\/([^/]+)$/;

export function answerAdmin(
  method: string,
  pathname: string,
  body: string,
  live: LiveScenario,
  stats: RequestStats,
): AdminAnswer {
  if (pathname === "/__sim/stats" && method === "GET") return { status: 200, body: stats.report() };
  if (pathname === "/__sim/scenario") {
    if (method === "GET") return { status: 200, body: scenarioToWire(live.current()) };
    if (method === "PUT") {
      return validated(() => {
        live.replace(parseScenario(body, "PUT /__sim/scenario"));
        return scenarioToWire(live.current());
      });
    }
    return notAllowed(method, pathname);
  }
  const match = CATEGORY_PATH.exec(pathname);
  if (match) {
    const category = match[1]!;
    if (!isCategory(category)) {
      return {
        status: 404,
        body: { error: `unknown category "${category}" (known: ${SIM_CATEGORIES.join(", ")})` },
      };
    }
    if (method !== "PATCH") return notAllowed(method, pathname);
    return validated(() => {
      live.overlay(category, parseFaults(body, `PATCH ${pathname}`));
      return faultsToWire(live.faultsFor(category));
    });
  }
  return { status: 404, body: { error: `no admin endpoint ${method} ${pathname}` } };
}

/** Applies a change; a bad body is answered 400 with every problem and changes nothing. */
function validated(change: () => unknown): AdminAnswer {
  try {
    return { status: 200, body: change() };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.problems.map(formatProblem);
    return { status: 400, body: { error: problems.join("; "), problems } };
  }
}

function notAllowed(method: string, pathname: string): AdminAnswer {
  return { status: 405, body: { error: `${method} is not supported on ${pathname}` } };
}

function isCategory(value: string): value is SimCategory {
  return (SIM_CATEGORIES as readonly string[]).includes(value);
}
