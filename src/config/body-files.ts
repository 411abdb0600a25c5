import { dirname, resolve } from "node:path";
import { extractedBefore, unknownStepValues } from "../probes/kinds/flow-wire.js";
import { readBoundedFile } from "./bounded-read.js";
import { pathKey } from "./env.js";
import type { ConfigProblem } from "./problems.js";
import { type FieldPath, readFailure, type YamlSource } from "./source.js";
import type { ProbeWireValue } from "./wire.js";

/** The most a request body file may hold: a request, not a data set (and `/dev/zero` fails fast). */
export const MAX_BODY_FILE_BYTES = 1024 * 1024;

export interface BodyFiles {
  /**
   * What each body_file holds, by pathKey() of its place within the probe: "" for an http probe's
   * own, the step's (["steps", 0]) for a flow step's.
   */
  readonly bodies: Map<string, string>;
  /** A file that cannot be read, or that names a value no earlier step extracts. */
  readonly problems: ConfigProblem[];
}

/**
 * Reads the body_file of an http probe, or of each step of a flow, declared at `path` in `source`,
 * relative to the file that declares it. Problems name the file as written, never one that came
 * from the environment (that path may be a secret), and never what the file holds.
 */
export async function readBodyFiles(
  probe: ProbeWireValue,
  path: FieldPath,
  source: YamlSource,
  references: ReadonlyMap<string, readonly string[]>,
): Promise<BodyFiles> {
  const bodies = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  const read = async (file: string, within: FieldPath): Promise<string | null> => {
    const at = [...path, ...within, "body_file"];
    const shown = references.has(pathKey(at)) ? "(path from the environment)" : `"${file}"`;
    try {
      const text = await readBoundedFile(resolve(dirname(source.file), file), MAX_BODY_FILE_BYTES);
      bodies.set(pathKey(within), text);
      return text;
    } catch (error) {
      problems.push(source.problem(at, `body file ${shown}: ${readFailure(error)}`));
      return null;
    }
  };
  if (probe.kind === "http" && probe.body_file !== undefined) await read(probe.body_file, []);
  if (probe.kind !== "flow") return { bodies, problems };
  for (const list of ["steps", "finally"] as const) {
    for (const [i, step] of probe[list].entries()) {
      if (step.body_file === undefined) continue;
      const text = await read(step.body_file, [list, i]);
      if (text === null) continue;
      const at = [...path, list, i, "body_file"];
      const shown = references.has(pathKey(at)) ? "(path from the environment)" : `"${step.body_file}"`;
      for (const message of unknownStepValues([text], extractedBefore(probe, list, i)))
        problems.push(source.problem(at, `body file ${shown}: ${message}`));
    }
  }
  return { bodies, problems };
}
