import { readFile } from "node:fs/promises";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { ConfigProblem } from "./problems.js";

/** A field path inside one YAML document: mapping keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** "categories.settlements.service_class", "probes[2].every", "[2].every" for a top-level list. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const segment of path) {
    out += typeof segment === "number" ? `[${segment}]` : out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "(document)" : out;
}

type YamlDocument = ReturnType<typeof parseDocument>;

/** One parsed YAML file that can say where any field path sits in it. */
export class YamlSource {
  readonly #doc: YamlDocument;
  readonly #lines: LineCounter;

  constructor(
    /** The path shown in problems: as the user gave it, or relative to it. */
    readonly file: string,
    doc: YamlDocument,
    lines: LineCounter,
  ) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** The document as plain data (mappings become objects, lists arrays). */
  toData(): unknown {
    return this.#doc.toJS({ maxAliasCount: 1000 });
  }

  /** A problem at the value of `path` (or, with `at: "key"`, at its key); at the nearest ancestor if absent. */
  problem(path: FieldPath, message: string, at: "value" | "key" = "value"): ConfigProblem {
    const { line, col } = this.position(path, at);
    return { file: this.file, line, col, path: formatPath(path), message };
  }

  position(path: FieldPath, at: "value" | "key" = "value"): { line: number; col: number } {
    const offset = this.#offsetOf(path, at);
    return offset === null ? { line: 1, col: 1 } : this.#lines.linePos(offset);
  }

  #offsetOf(path: FieldPath, at: "value" | "key"): number | null {
    let node = this.#resolve(this.#doc.contents);
    let offset = node?.range?.[0] ?? null;
    for (const [index, segment] of path.entries()) {
      const last = index === path.length - 1;
      const step = this.#child(node, segment);
      if (!step) return offset;
      const keyOffset = step.key?.range?.[0];
      node = this.#resolve(step.value);
      offset =
        last && at === "key" && keyOffset !== undefined
          ? keyOffset
          : (node?.range?.[0] ?? keyOffset ?? offset);
    }
    return offset;
  }

  #child(node: Node | null, segment: string | number): { key?: Node; value: Node | null } | null {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        const name = isScalar(key) ? String(key.value) : null;
        if (name === String(segment)) return { key: key ?? undefined, value: pair.value as Node | null };
      }
      return null;
    }
    if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      return item === undefined ? null : { value: item };
    }
    return null;
  }

  #resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.#doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }
}

export type ReadResult =
  | { source: YamlSource; problems: ConfigProblem[] }
  | { source: null; problems: ConfigProblem[] };

/** Reads and parses one YAML file; a missing file or a syntax error is a problem, never a throw. */
export async function readYamlSource(absolutePath: string, shownAs: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(absolutePath, "utf8");
  } catch (error) {
    const message = readFailure(error);
    return { source: null, problems: [{ file: shownAs, line: 1, col: 1, path: "(file)", message }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new YamlSource(shownAs, doc, lines);
  const problems = doc.errors.map((e): ConfigProblem => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { file: shownAs, line, col, path: "(yaml)", message: `YAML syntax: ${e.message.split("\n")[0]}` };
  });
  return problems.length > 0 ? { source: null, problems } : { source, problems };
}

/** A one-line reason for an unreadable file, without a stack. */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "file not found";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory, not a file";
  return `cannot read: ${error instanceof Error ? error.message : String(error)}`;
}
