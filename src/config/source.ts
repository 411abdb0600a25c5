import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import { MAX_CONFIG_FILE_BYTES, readBoundedFile } from "./bounded-read.js";
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
  readonly #data: unknown;

  constructor(
    /** The path shown in problems: as the user gave it, or relative to it. */
    readonly file: string,
    doc: YamlDocument,
    lines: LineCounter,
    data: unknown,
  ) {
    this.#doc = doc;
    this.#lines = lines;
    this.#data = data;
  }

  /** The document as plain data (mappings become objects, lists arrays). */
  toData(): unknown {
    return this.#data;
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
    text = await readBoundedFile(absolutePath, MAX_CONFIG_FILE_BYTES);
  } catch (error) {
    const message = readFailure(error);
    return { source: null, problems: [{ file: shownAs, line: 1, col: 1, path: "(file)", message }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, message: string): ConfigProblem => {
    const { line, col } = lines.linePos(offset);
    return { file: shownAs, line, col, path: "(yaml)", message };
  };
  const problems = doc.errors.map((e) => at(e.pos[0], `YAML syntax: ${e.message.split("\n")[0]}`));
  if (problems.length > 0) return { source: null, problems };
  const alias = aliasProblem(doc);
  if (alias) return { source: null, problems: [at(alias.offset, alias.message)] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { source: null, problems: [at(0, `YAML: ${error instanceof Error ? error.message : error}`)] };
  }
  return { source: new YamlSource(shownAs, doc, lines, data), problems };
}

/** Aliases may expand to at most this many nodes in all: a configuration, not a "billion laughs". */
const MAX_ALIAS_COUNT = 1000;

/**
 * An alias with no anchor before it, or the alias where the expansion passes MAX_ALIAS_COUNT
 * (an alias bomb), located; yaml's own errors for these carry no position.
 */
function aliasProblem(doc: YamlDocument): { offset: number; message: string } | null {
  const sizes = new Map<unknown, number>();
  const expandedSize = (node: unknown, depth: number): number => {
    if (depth > 64) return Number.POSITIVE_INFINITY;
    if (isAlias(node)) return expandedSize(node.resolve(doc), depth + 1);
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let size = 1;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        size += isPair(item)
          ? expandedSize(item.key, depth + 1) + expandedSize(item.value, depth + 1)
          : expandedSize(item, depth + 1);
        if (size > MAX_ALIAS_COUNT * 100) break;
      }
    }
    sizes.set(node, size);
    return size;
  };
  let found: { offset: number; message: string } | null = null;
  let expanded = 0;
  visit(doc, {
    Alias(_key, alias) {
      const offset = alias.range?.[0] ?? 0;
      if (alias.resolve(doc) === undefined) {
        found = { offset, message: `YAML: alias *${alias.source} has no anchor &${alias.source} before it` };
        return visit.BREAK;
      }
      expanded += expandedSize(alias, 0);
      if (expanded > MAX_ALIAS_COUNT * 100) {
        found = { offset, message: "YAML: aliases expand to too many nodes (an alias bomb?)" };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** A one-line reason for an unreadable file, without a stack. */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "file not found";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory, not a file";
  if (code === "EFBIG" && error instanceof Error) return error.message;
  return `cannot read: ${error instanceof Error ? error.message : String(error)}`;
}
