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
  /** What each step's body_file holds, by pathKey() of the step within the probe (["steps", 0]). */
  readonly bodies: Map<string, string>;
  /** A file that cannot be read, or that names a value no earlier step extracts. */
  readonly problems: ConfigProblem[];
}

/**
 * Reads the body_file of each step of a flow declared at `path` in `source`, relative to the
 * file that declares it. Problems name the file as written, never one that came from the
 * environment (that path may be a secret), and never what the file holds.
 */
export async function readStepBodyFiles(
  probe: ProbeWireValue,
  path: FieldPath,
  source: YamlSource,
  references: ReadonlyMap<string, readonly string[]>,
): Promise<BodyFiles> {
  const bodies = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  if (probe.kind !== "flow") return { bodies, problems };
  for (const list of ["steps", "finally"] as const) {
    for (const [i, step] of probe[list].entries()) {
      if (step.body_file === undefined) continue;
      const at = [...path, list, i, "body_file"];
      const shown = references.has(pathKey(at)) ? "(path from the environment)" : `"${step.body_file}"`;
      let text: string;
      try {
        text = await readBoundedFile(resolve(dirname(source.file), step.body_file), MAX_BODY_FILE_BYTES);
      } catch (error) {
        problems.push(source.problem(at, `body file ${shown}: ${readFailure(error)}`));
        continue;
      }
      const unknown = unknownStepValues([text], extractedBefore(probe, list, i));
      for (const message of unknown) problems.push(source.problem(at, `body file ${shown}: ${message}`));
      bodies.set(pathKey([list, i]), text);
    }
  }
  return { bodies, problems };
}
