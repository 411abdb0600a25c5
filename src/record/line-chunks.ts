import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ProbeResult } from "../model/result.js";
import { type KnownIds, parseResultLine } from "./ndjson.js";

export interface RejectedLine {
  readonly line: number;
  readonly message: string;
}

/** The checked lines of one piece of an NDJSON file, in file order. */
export interface LineChunk {
  readonly results: ProbeResult[];
  /** canonicals[i] is the canonical form of results[i], when the reader was asked for it. */
  readonly canonicals: string[] | null;
  readonly rejected: RejectedLine[];
  readonly bytesRead: number;
  readonly totalBytes: number;
}

/** What the import worker is started with (structured-clone friendly). */
export interface WorkerRequest {
  readonly file: string;
  readonly known: { probes: [string, string][]; categories: string[] } | null;
}

/**
 * Reads and checks an NDJSON file a piece at a time; blank lines are allowed and ignored, and
 * line numbers count every line. `canonical`, when given, is applied to every valid result.
 */
export async function* readLineChunks(
  file: string,
  known: KnownIds | null,
  canonical?: (result: ProbeResult) => string,
): AsyncGenerator<LineChunk> {
  const totalBytes = (await stat(file)).size;
  let number = 0;
  let chunk = emptyChunk(canonical !== undefined);
  const take = (text: string) => {
    number++;
    const line = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (line.trim() === "") return;
    const parsed = parseResultLine(line, known);
    if ("problem" in parsed) {
      chunk.rejected.push({ line: number, message: parsed.problem });
      return;
    }
    chunk.results.push(parsed.result);
    chunk.canonicals?.push(canonical!(parsed.result));
  };
  // Split by hand: readline costs more than the JSON parsing it feeds.
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 });
  let partial = "";
  for await (const piece of stream as AsyncIterable<string>) {
    const lines = (partial + piece).split("\n");
    partial = lines.pop()!;
    for (const text of lines) take(text);
    yield { ...chunk, bytesRead: stream.bytesRead, totalBytes };
    chunk = emptyChunk(canonical !== undefined);
  }
  if (partial !== "") take(partial);
  yield { ...chunk, bytesRead: totalBytes, totalBytes };
}

function emptyChunk(withCanonicals: boolean): LineChunk {
  return { results: [], canonicals: withCanonicals ? [] : null, rejected: [], bytesRead: 0, totalBytes: 0 };
}
