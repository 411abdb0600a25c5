/**
 * The strict reading of a signed JSON report. JSON.parse alone is not enough to know that the
 * bytes read are the bytes signed: it keeps the last of duplicate keys (a `"credit_pct":25`
 * placed before the signed value is shown by other readers, ignored by the check) and reads
 * 1e999 as Infinity, which serialises back as the signed `null`. So the text is scanned once for
 * both before it is parsed. Hand-written because no JSON library in the dependencies refuses
 * duplicates; the scan relies on JSON.parse having accepted the text, so it only tracks strings,
 * nesting and numbers.
 */

const NUMBER = /-?[0-9.eE+-]+/y;

/** Why the text is not one that a signature can be checked over, or null when it is strict. */
export function strictJsonProblem(text: string): string | null {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      const keys = open.at(-1);
      let next = end;
      while (next < text.length && " \t\n\r".includes(text[next]!)) next++;
      if (keys && text[next] === ":") {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (keys.has(key)) return `duplicate key ${JSON.stringify(key)}`;
        keys.add(key);
      }
      i = end;
    } else if (c === "{" || c === "[") {
      open.push(c === "{" ? new Set() : null);
      i++;
    } else if (c === "}" || c === "]") {
      open.pop();
      i++;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(text)![0];
      if (!Number.isFinite(Number(number))) return `number ${number} has no finite value`;
      i += number.length;
    } else i++;
  }
  return null;
}

/** The index just past the string literal that starts at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}
