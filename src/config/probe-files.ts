import { readdir } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import type { ProbeSchedule } from "../model/config.js";
import { parseCron, shortestGapMs } from "../schedule/cron.js";
import { readBodyFiles } from "./body-files.js";
import type { LocatedProbe } from "./convert.js";
import type { ProbeEntry } from "./crossref.js";
import { type Environment, expandEnvironment, pathKey, type StandIn } from "./env.js";
import { headerCredentials, probeFileHeaderPlaces } from "./header-credentials.js";
import { problemsFromIssues } from "./issues.js";
import type { ConfigProblem } from "./problems.js";
import { type FieldPath, readFailure, readYamlSource, type YamlSource } from "./source.js";
import { cronProblem, parseDuration } from "./values.js";
import { ProbeFileWire, ProbeWire } from "./wire.js";

/** What the probe declarations of one place (a file, or slo.yaml's inline list) yielded. */
export interface ProbeHarvest {
  readonly entries: ProbeEntry[];
  readonly located: LocatedProbe[];
  readonly problems: ConfigProblem[];
  /** Header credentials and environment values in bodies: text no message may repeat. */
  readonly secrets: string[];
  readonly warnings: ConfigProblem[];
  /** Problems only a command that probes has (a flow step's body_file that cannot be read). */
  readonly runProblems: ConfigProblem[];
  /** Warnings only a command that probes needs (a timeout_ms as long as every). */
  readonly runWarnings: ConfigProblem[];
}

const empty = (): ProbeHarvest => ({
  entries: [],
  located: [],
  problems: [],
  secrets: [],
  warnings: [],
  runProblems: [],
  runWarnings: [],
});

/**
 * Validates a list of probes found at `at` in `source` (`[]` for a probe file, `["probes"]` inline);
 * `secretHeaders` holds the pathKey() of each header value that is a credential.
 */
export async function harvestProbes(
  source: YamlSource,
  at: FieldPath,
  list: unknown,
  secretHeaders: ReadonlySet<string>,
  references: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<ProbeHarvest> {
  const harvest = empty();
  const schema = at.length === 0 ? ProbeFileWire : ProbeWire.array();
  const parsed = schema.safeParse(list);
  if (!parsed.success)
    harvest.problems.push(...problemsFromIssues(parsed.error.issues, source, schema, list, at));
  if (!Array.isArray(list)) return harvest;
  for (const [i, raw] of list.entries()) {
    const path = [...at, i];
    harvest.entries.push({ source, path, raw });
    const one = ProbeWire.safeParse(raw);
    if (!one.success) continue;
    const slow = timeoutNotShorterThanEvery(source, path, raw, one.data);
    if (slow) harvest.runWarnings.push(slow);
    const names = Object.keys("headers" in one.data ? one.data.headers : {}).filter((n) =>
      secretHeaders.has(pathKey([...path, "headers", n])),
    );
    const inProbe = `${pathKey(path)}\0`;
    // A flow step's credential headers, by their key within the probe ("steps\00\0headers\0X-Api-Key").
    const secretStepHeaders = new Set(
      [...secretHeaders]
        .filter((key) => key.startsWith(`${inProbe}steps\0`) || key.startsWith(`${inProbe}finally\0`))
        .map((key) => key.slice(inProbe.length)),
    );
    const line = source.position(path).line;
    const bodyFiles = await readBodyFiles(one.data, path, source, references);
    const body = pathKey([...path, "body"]);
    const environmentValues = [...references]
      .filter(([key]) => key.startsWith(inProbe))
      .flatMap(([, values]) => values);
    harvest.located.push({
      wire: one.data,
      file: source.file,
      line,
      secretHeaders: new Set(names),
      ...(secretStepHeaders.size > 0 ? { secretStepHeaders } : {}),
      environmentValues,
      bodyFromEnvironment: [...references.keys()].some((key) => key === body || key.startsWith(`${body}\0`)),
      ...(bodyFiles.bodies.size > 0 ? { bodyFiles: bodyFiles.bodies } : {}),
    });
    harvest.runProblems.push(...bodyFiles.problems);
  }
  return harvest;
}

/**
 * Reads every *.yaml / *.yml file of the probes directory, in name order. `shownDir` is the
 * directory as problems show it (relative to the config file as the user named it).
 */
export async function readProbeDirectory(
  directory: string,
  shownDir: string,
  env: Environment,
  slo: YamlSource,
  standIn?: StandIn,
): Promise<ProbeHarvest> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (error) {
    const reason = readFailure(error).replace("file not found", "directory not found");
    return { ...empty(), problems: [slo.problem(["probes_dir"], reason)] };
  }
  const all = empty();
  for (const name of names) {
    const read = await readYamlSource(join(directory, name), join(shownDir, name));
    all.problems.push(...read.problems);
    if (!read.source) continue;
    const expanded = expandEnvironment(read.source.toData() ?? [], env, standIn);
    all.problems.push(...expanded.problems.map((p) => read.source.problem(p.path, p.message)));
    const credentials = headerCredentials(read.source, expanded, probeFileHeaderPlaces(expanded.value));
    const harvest = await harvestProbes(
      read.source,
      [],
      expanded.value,
      credentials.secret,
      expanded.references,
    );
    all.entries.push(...harvest.entries);
    all.located.push(...harvest.located);
    all.problems.push(...harvest.problems);
    all.runProblems.push(...harvest.runProblems);
    all.secrets.push(...credentials.values);
    all.warnings.push(...credentials.warnings, ...harvest.warnings);
    all.runWarnings.push(...harvest.runWarnings);
  }
  return all;
}

/**
 * A run never overlaps its own probe's next one: with timeout_ms >= every, while the target
 * hangs each run lasts the whole timeout and the runs due meanwhile are skipped, so an outage is
 * sampled only 1 in (timeout_ms / every, rounded down, + 1) times as often as it should be (and
 * weighs that much less against the requests of healthy probes). Allowed, but hardly ever meant.
 * A cron schedule's every is the shortest gap between its runs. Also for a control (load.ts).
 */
export function timeoutNotShorterThanEvery(
  source: YamlSource,
  path: FieldPath,
  raw: unknown,
  probe: {
    readonly every?: string | undefined;
    readonly schedule?: string | undefined;
    readonly timeout_ms: number;
  },
): ConfigProblem | null {
  const schedule = scheduleOf(probe);
  const everyMs = schedule && tightestIntervalMs(schedule);
  if (!everyMs || probe.timeout_ms < everyMs) return null;
  const given = raw !== null && typeof raw === "object" && "timeout_ms" in raw;
  const every = probe.every ?? `the shortest gap between its scheduled runs, ${everyMs} ms`;
  const share = Math.floor(probe.timeout_ms / everyMs) + 1;
  return source.problem(
    [...path, "timeout_ms"],
    `${given ? "" : "the default "}timeout_ms ${probe.timeout_ms} is not shorter than every (${every}): ` +
      "while the target hangs, each run lasts its whole timeout and the runs due meanwhile are skipped, " +
      `so an outage gets about ${share === 2 ? "half" : `1 in ${share}`} of its runs; make timeout_ms shorter than every`,
  );
}

function scheduleOf(probe: { readonly every?: string | undefined; readonly schedule?: string | undefined }) {
  const everyMs = probe.every === undefined ? null : parseDuration(probe.every);
  if (everyMs !== null) return { kind: "every", intervalMs: everyMs } as const;
  return probe.schedule === undefined ? null : ({ kind: "cron", expression: probe.schedule } as const);
}

/**
 * How often a probe runs at the tightest: its every, or the shortest gap between its cron
 * schedule's next fire times; null for an expression that is invalid or never fires.
 */
export function tightestIntervalMs(schedule: ProbeSchedule): number | null {
  if (schedule.kind === "every") return schedule.intervalMs;
  if (cronProblem(schedule.expression) !== null) return null;
  try {
    return shortestGapMs(parseCron(schedule.expression), 0);
  } catch {
    return null;
  }
}

/** The probes directory on disk and as shown in problems, both relative to the config file. */
export function probeDirectoryOf(probesDir: string, configDir: string, shownConfigDir: string) {
  return {
    directory: resolve(configDir, probesDir),
    shown: isAbsolute(probesDir) ? probesDir : join(shownConfigDir, probesDir),
  };
}
