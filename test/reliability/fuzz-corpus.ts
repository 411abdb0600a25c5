// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the mutations insert literal ${NAME} references.
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support.js";

/** Values for the ${NAME} references of the shipped profile. */
export const FUZZ_ENV = {
  KLARNA_BASE_URL: "http://127.0.0.1:9",
  KLARNA_ENVIRONMENT: "playground",
  KLARNA_USERNAME: "fuzz-user",
  KLARNA_PASSWORD: "fuzz-password-12b",
};

/** A problem line on stderr: FILE:LINE:COL: field.path: message (warnings have the same shape). */
export const LOCATED_LINE = /^[^\s:][^:]*:\d+:\d+: \S.*$/;

export interface Corpus {
  readonly dir: string;
  /** Relative file -> original bytes. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** The relative names, slo.yaml first. */
  readonly names: readonly string[];
}

/** A copy of the shipped slo.yaml and probes/ in `dir`, with the original bytes of each file. */
export function shippedCorpus(dir: string): Corpus {
  cpSync(join(ROOT, "slo.yaml"), join(dir, "slo.yaml"));
  cpSync(join(ROOT, "probes"), join(dir, "probes"), { recursive: true });
  const files = new Map<string, Buffer>([["slo.yaml", readFileSync(join(dir, "slo.yaml"))]]);
  for (const f of readdirSync(join(dir, "probes")).sort()) {
    files.set(`probes/${f}`, readFileSync(join(dir, "probes", f)));
  }
  return { dir, files, names: [...files.keys()] };
}

/** Half the mutations hit slo.yaml, the rest one of the probe files. */
export function pickFile(corpus: Corpus, next: () => number): string {
  return next() < 0.5 ? "slo.yaml" : corpus.names[1 + Math.floor(next() * (corpus.names.length - 1))]!;
}
