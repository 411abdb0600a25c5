import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { type AgentIdentity, type ProbeResult, withIdentity } from "../model/result.js";
import { type KnownIds, parseResultLine } from "./ndjson.js";

const BOM = "\ufeff";
/** No result needs more than this; a longer line is refused rather than held in memory. */
export const MAX_LINE_CHARS = 1 << 20;

export interface RejectedLine {
  readonly line: number;
  readonly message: string;
}

/** The checked lines of one piece of an NDJSON file, in file order. */
export interface LineChunk {
  readonly results: ProbeResult[];
  /** canonicals[i] is the canonical form of results[i], when the reader was asked for it. */
  readonly canonicals: string[] | null;
  /** lines[i] is the line number of results[i] in the file. */
  readonly lines: number[];
  readonly rejected: RejectedLine[];
  readonly bytesRead: number;
  readonly totalBytes: number;
}

/** How many chunks the import worker may post before the main thread acknowledges one. */
export const CHUNKS_IN_FLIGHT = 4;

/** What the import worker is started with (structured-clone friendly). */
export interface WorkerRequest {
  readonly file: string;
  readonly known: { probes: [string, string][]; categories: string[] } | null;
  /** The importing agent: a line that names no agent is its own (docs/regions-merge.md). */
  readonly own?: AgentIdentity | null;
}

/**
 * Reads and checks an NDJSON file a piece at a time; blank lines are allowed and ignored, line
 * numbers count every line, and a UTF-8 byte order mark before the first line is skipped (editors
 * on Windows write one). `canonical`, when given, is applied to every valid result; `own` fills
 * the identity of a result that names no agent.
 */
export async function* readLineChunks(
  file: string,
  known: KnownIds | null,
  canonical?: (result: ProbeResult) => string,
  own?: AgentIdentity | null,
): AsyncGenerator<LineChunk> {
  const totalBytes = (await stat(file)).size;
  let number = 0;
  let chunk = emptyChunk(canonical !== undefined);
  /** The line being read is already longer than MAX_LINE_CHARS: its rest is skipped. */
  let overlong = false;
  const take = (text: string) => {
    number++;
    if (overlong) {
      overlong = false;
      chunk.rejected.push({ line: number, message: `longer than ${MAX_LINE_CHARS} characters` });
      return;
    }
    let line = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (number === 1 && line.startsWith(BOM)) line = line.slice(1);
    if (line.trim() === "") return;
    const parsed = parseResultLine(line, known);
    if ("problem" in parsed) {
      chunk.rejected.push({ line: number, message: parsed.problem });
      return;
    }
    const result = withIdentity(parsed.result, own);
    chunk.results.push(result);
    chunk.lines.push(number);
    chunk.canonicals?.push(canonical!(result));
  };
  // Split by hand: readline costs more than the JSON parsing it feeds.
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 });
  let partial = "";
  for await (const piece of stream as AsyncIterable<string>) {
    const lines = (partial + piece).split("\n");
    partial = lines.pop()!;
    for (const text of lines) take(text);
    // A file with no line breaks must not be held whole: memory stays bounded whatever the input.
    if (partial.length > MAX_LINE_CHARS) {
      overlong = true;
      partial = "";
    }
    yield { ...chunk, bytesRead: stream.bytesRead, totalBytes };
    chunk = emptyChunk(canonical !== undefined);
  }
  if (partial !== "" || overlong) take(partial);
  yield { ...chunk, bytesRead: totalBytes, totalBytes };
}

function emptyChunk(withCanonicals: boolean): LineChunk {
  return {
    results: [],
    canonicals: withCanonicals ? [] : null,
    lines: [],
    rejected: [],
    bytesRead: 0,
    totalBytes: 0,
  };
}
