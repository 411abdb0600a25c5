// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the mutations insert literal ${NAME} references.
import { createRng, type Rng } from "../../src/sim/rng.js";

/**
 * Seeded mutations of a text file's bytes: what a bad editor, a partial copy or a hostile hand
 * does to a configuration or an NDJSON export. Same seed, same mutations: a failure reproduces.
 */

/** YAML and JSON specials, huge and odd numbers, unicode and control characters. */
const INSERTIONS: readonly string[] = [
  "? ",
  ": ",
  "- ",
  "{",
  "}",
  "[",
  "]",
  ",",
  "#",
  "|",
  ">",
  "|-\n",
  "'",
  '"',
  "\t",
  "\n",
  "\r\n",
  "%YAML 1.1\n",
  "---\n",
  "...\n",
  "~",
  "null",
  "true",
  "!!binary ",
  "!!str ",
  "!!map ",
  "!!js/function ",
  "!custom ",
  "${",
  "${X:-",
  "${KLARNA_PASSWORD}",
  "${UNSET_VARIABLE_12B}",
  "$${X}",
  "1e309",
  "-0",
  "0x1F",
  "0o17",
  "99999999999999999999999999",
  "9007199254740993",
  "-1",
  "NaN",
  ".inf",
  "-.inf",
  "1_000",
  "2026-13-45T99:99:99Z",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\uFEFF",
  "\u202E",
  "\u00a0",
  "ü",
  "😀",
  "\ud800",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "\\u0000",
  "\\",
  "%",
  "@",
  "`",
  "<<: {}\n",
  "=",
  "x".repeat(5000),
];

/** Anchors and aliases: an undefined alias is not yet reported with FILE:LINE:COL (issue 12, engineer 12a). */
export const ALIAS_INSERTIONS: readonly string[] = ["&a ", "*a", "*undefined_anchor", "<<: *a\n"];

export interface Mutation {
  readonly bytes: Buffer;
  /** What was done, for the failure message. */
  readonly steps: readonly string[];
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[Math.floor(rng.next() * list.length)]!;
}

function int(rng: Rng, below: number): number {
  return Math.floor(rng.next() * below);
}

type Step = (rng: Rng, b: Buffer, insertions: readonly string[]) => [Buffer, string];

const STEPS: readonly Step[] = [
  (rng, b) => {
    const at = int(rng, b.length);
    const copy = Buffer.from(b);
    const bit = 1 << int(rng, 8);
    copy[at] = copy[at]! ^ bit;
    return [copy, `flip bit ${bit} at byte ${at}`];
  },
  (rng, b) => {
    const at = int(rng, b.length);
    return [b.subarray(0, at), `truncate at byte ${at}`];
  },
  (rng, b, insertions) => {
    const at = int(rng, b.length + 1);
    const text = pick(rng, insertions);
    return [
      Buffer.concat([b.subarray(0, at), Buffer.from(text), b.subarray(at)]),
      `insert ${JSON.stringify(text.slice(0, 20))} at byte ${at}`,
    ];
  },
  (rng, b) => {
    const text = b.toString("latin1");
    const numbers = [...text.matchAll(/\d+(\.\d+)?/g)];
    if (numbers.length === 0) return [b, "no number to replace"];
    const m = pick(rng, numbers);
    const huge = pick(rng, [
      "1e308",
      "1e309",
      "99999999999999999999999",
      "-5",
      "0",
      "0.0000001",
      "4294967296",
      "NaN",
    ]);
    const out = text.slice(0, m.index) + huge + text.slice(m.index! + m[0].length);
    return [Buffer.from(out, "latin1"), `number at byte ${m.index} -> ${huge}`];
  },
  (rng, b) => {
    const lines = b.toString("latin1").split("\n");
    const i = int(rng, lines.length);
    const dup = rng.chance(0.5);
    if (dup) lines.splice(i, 0, lines[i]!);
    else lines.splice(i, 1);
    return [Buffer.from(lines.join("\n"), "latin1"), `${dup ? "duplicate" : "delete"} line ${i + 1}`];
  },
  (rng, b) => {
    const lines = b.toString("latin1").split("\n");
    const i = int(rng, lines.length);
    const indent = pick(rng, ["", " ", "    ", "\t"]);
    lines[i] = indent + lines[i]!.trimStart();
    return [
      Buffer.from(lines.join("\n"), "latin1"),
      `re-indent line ${i + 1} with ${JSON.stringify(indent)}`,
    ];
  },
];

/** One to three mutation steps applied to `original`. */
export function mutate(rng: Rng, original: Buffer, insertions: readonly string[] = INSERTIONS): Mutation {
  let bytes = original;
  const steps: string[] = [];
  const count = 1 + int(rng, 3);
  for (let i = 0; i < count && bytes.length > 0; i++) {
    const [next, step] = pick(rng, STEPS)(rng, bytes, insertions);
    bytes = next;
    steps.push(step);
  }
  return { bytes, steps };
}

export { createRng, INSERTIONS };
