import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { type AgentIdentity, type ProbeResult, withIdentity } from "../../model/result.js";
import { isoTimestamp } from "../evidence/canonical.js";
import { type KnownIds, parseResultLine } from "./ndjson.js";

/** No result needs more than this (1 MiB); a longer line is refused rather than held in memory. */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * How far a result may be dated after the import's clock: clocks of two hosts differ a little, but
 * a result is only written once its request was made (the agent's own never are ahead).
 */
export const MAX_RESULT_AHEAD_MS = 5 * 60_000;

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
  /** The chain's last hash (hex), when the results are to be hashed ahead in file order. */
  readonly chainTail?: string | null;
  /** The import's clock: a result dated more than MAX_RESULT_AHEAD_MS after it is refused. */
  readonly importedAt: number;
}

/** What the import records of the file it read (its `import` input record). */
export interface FileSummary {
  sha256: string;
  /** Every line, blank ones included. */
  lines: number;
}

export interface LineOptions {
  /** Applied to every valid result. */
  readonly canonical?: (result: ProbeResult) => string;
  /** Fills the identity of a result that names no agent. */
  readonly own?: AgentIdentity | null;
  /** The import's clock: a later result (beyond MAX_RESULT_AHEAD_MS) is refused. */
  readonly importedAt?: number;
  /** Filled once the whole file has been read. */
  readonly summary?: FileSummary;
}

/** Bytes read at a time. */
const READ_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const OPEN_BRACE = 0x7b;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Reads and checks an NDJSON file a piece at a time; blank lines are allowed and ignored, line
 * numbers count every line, and a UTF-8 byte order mark before the first line is skipped (editors
 * on Windows write one).
 */
export async function* readLineChunks(
  file: string,
  known: KnownIds | null,
  options: LineOptions = {},
): AsyncGenerator<LineChunk> {
  const handle = await open(file, "r");
  try {
    const totalBytes = (await handle.stat()).size;
    const lines = new LineReader(known, options);
    const hash = createHash("sha256");
    // The file is split into lines as bytes and each line decoded on its own: no piece of the file
    // is ever one large string (decoding, joining and splitting those was a third of the reading),
    // and the one buffer is reused, so the reader's memory stays the same whatever the file's size.
    const buffer = Buffer.allocUnsafeSlow(MAX_LINE_BYTES + READ_BYTES);
    let held = 0;
    let bytesRead = 0;
    for (;;) {
      const { bytesRead: n } = await handle.read(buffer, held, READ_BYTES, null);
      if (n === 0) break;
      hash.update(buffer.subarray(held, held + n));
      bytesRead += n;
      held = lines.takeComplete(buffer.subarray(0, held + n), held);
      yield lines.chunk(bytesRead, totalBytes);
    }
    lines.takeRest(buffer.subarray(0, held));
    if (options.summary) {
      options.summary.sha256 = hash.digest("hex");
      options.summary.lines = lines.count;
    }
    yield lines.chunk(totalBytes, totalBytes);
  } finally {
    await handle.close();
  }
}

/** Splits bytes into lines and checks each one, numbering every line; collects them into chunks. */
class LineReader {
  #number = 0;
  /** The line being read is already longer than MAX_LINE_BYTES: its rest is skipped. */
  #overlong = false;
  #chunk: LineChunk;

  constructor(
    private readonly known: KnownIds | null,
    private readonly options: LineOptions,
  ) {
    this.#chunk = emptyChunk(options.canonical !== undefined);
  }

  /** Lines read so far, blank ones included. */
  get count(): number {
    return this.#number;
  }

  /**
   * Takes every complete line of `bytes` (newline bytes before `searchFrom` were looked for
   * already), moves the incomplete last one to the buffer's start and returns its length.
   */
  takeComplete(bytes: Buffer, searchFrom: number): number {
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE, searchFrom); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
      this.#take(bytes, start, end);
      start = end + 1;
    }
    const rest = bytes.length - start;
    // A file with no line breaks must not be held whole: memory stays bounded whatever the input.
    if (rest > MAX_LINE_BYTES) {
      this.#overlong = true;
      return 0;
    }
    bytes.copyWithin(0, start);
    return rest;
  }

  /** The last line, which has no line break after it. */
  takeRest(bytes: Buffer): void {
    if (bytes.length > 0 || this.#overlong) this.#take(bytes, 0, bytes.length);
  }

  /** The lines taken since the last call. */
  chunk(bytesRead: number, totalBytes: number): LineChunk {
    const chunk = { ...this.#chunk, bytesRead, totalBytes };
    this.#chunk = emptyChunk(this.options.canonical !== undefined);
    return chunk;
  }

  #take(bytes: Buffer, from: number, to: number): void {
    const number = ++this.#number;
    const chunk = this.#chunk;
    if (this.#overlong) {
      this.#overlong = false;
      chunk.rejected.push({ line: number, message: `longer than ${MAX_LINE_BYTES} bytes` });
      return;
    }
    let start = from;
    let end = to;
    if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
    if (number === 1 && end - start >= 3 && UTF8_BOM.every((byte, i) => bytes[start + i] === byte)) {
      start += 3;
    }
    if (start === end) return;
    // Invalid UTF-8 reads as U+FFFD, as it did when the file was decoded in pieces.
    const line = bytes.toString("utf8", start, end);
    if (bytes[start] !== OPEN_BRACE && line.trim() === "") return;
    const parsed = parseResultLine(line, this.known);
    if ("problem" in parsed) {
      chunk.rejected.push({ line: number, message: parsed.problem });
      return;
    }
    const future = this.#futureProblem(parsed.result.ts);
    if (future !== null) {
      chunk.rejected.push({ line: number, message: future });
      return;
    }
    const result = withIdentity(parsed.result, this.options.own);
    chunk.results.push(result);
    chunk.lines.push(number);
    chunk.canonicals?.push(this.options.canonical!(result));
  }

  /** A result dated after the import (finding 1 of attack 24b: future successes counted as served). */
  #futureProblem(ts: number): string | null {
    const now = this.options.importedAt;
    if (now === undefined || ts <= now + MAX_RESULT_AHEAD_MS) return null;
    return `ts ${isoTimestamp(ts)} is in the future: more than ${MAX_RESULT_AHEAD_MS / 60_000} minutes after this import's clock (${isoTimestamp(now)}); a result can only be imported once its request was made`;
  }
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
