import { on } from "node:events";
import { Worker } from "node:worker_threads";
import type { ProbeResult } from "../../model/result.js";
import { packagePath } from "../../package-root.js";
import type { EvidenceStore } from "../store.js";
import { fullCollection } from "./heap.js";
import {
  type PackedChunk,
  type SpeculativeHashes,
  speculativeHashesOf,
  unpackChunk,
} from "./import-chunk.js";
import type { ImportBatch, ImportSession } from "./import-session.js";
import {
  type FileSummary,
  type LineChunk,
  type RejectedLine,
  readLineChunks,
  type WorkerRequest,
} from "./line-chunks.js";
import type { KnownIds } from "./ndjson.js";

export type { RejectedLine };

export interface ImportProgress {
  readonly phase: "reading" | "writing";
  readonly done: number;
  readonly total: number;
}

export interface ImportFileOptions {
  /** The configuration's ids; null accepts any (--allow-unknown). */
  readonly known: KnownIds | null;
  /** Store the valid lines even when some are rejected. */
  readonly skipInvalid: boolean;
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportFileOutcome {
  /** Lines refused, in file order; when not empty and skipInvalid is false, nothing was stored. */
  readonly rejected: readonly RejectedLine[];
  readonly imported: number;
  readonly alreadyPresent: number;
  readonly stored: boolean;
}

/** Reads and checks every line of an NDJSON file on this thread; blank lines are allowed and ignored. */
export async function readResultFile(
  file: string,
  known: KnownIds | null,
  onProgress?: (progress: ImportProgress) => void,
): Promise<{ results: ProbeResult[]; rejected: RejectedLine[] }> {
  const results: ProbeResult[] = [];
  const rejected: RejectedLine[] = [];
  for await (const chunk of readLineChunks(file, known)) {
    for (const result of chunk.results) results.push(result);
    for (const line of chunk.rejected) rejected.push(line);
    onProgress?.({ phase: "reading", done: chunk.bytesRead, total: chunk.totalBytes });
  }
  return { results, rejected };
}

/**
 * `slo-agent import`: all or nothing unless skipInvalid; idempotent on agent + probe + ts (a line
 * naming no agent is the store's own agent's), so importing a file twice stores nothing the second
 * time, and a line whose identity meets another line or a stored record with other content is
 * refused, naming both. A worker thread parses and checks the
 * lines while this thread chains and writes them, in one transaction. A file not in ts order is
 * read a second time into a table on disk and written from it sorted: memory stays bounded
 * whatever the file's size. A line dated more than MAX_RESULT_AHEAD_MS after the store's clock is
 * refused; an import that stores results records itself (an `import` input record) in its transaction.
 */
export async function importResultFile(
  store: EvidenceStore,
  file: string,
  options: ImportFileOptions,
): Promise<ImportFileOutcome> {
  const rejected: RejectedLine[] = [];
  const first = store.beginImport();
  let sorted: ImportSession | null = null;
  let ordered = true;
  let writing = true;
  const summary: FileSummary = { sha256: "", lines: 0 };
  const request = workerRequest(store, file, options.known);
  try {
    // Chunks are written and dropped as they come: memory holds a few of them, never the file.
    const chunks = parsedInWorker({ ...request, chainTail: first.chainTailHex }, summary);
    for await (const { chunk, speculative } of chunks) {
      for (const line of chunk.rejected) rejected.push(line);
      if (writing && !first.appendInOrder(batchOf(chunk, speculative))) ordered = writing = false;
      if (writing && refused(rejected, first.conflicts, options)) writing = false;
      if (!writing) first.rollback();
      options.onProgress?.({ phase: "reading", done: chunk.bytesRead, total: chunk.totalBytes });
    }
    // Conflicts of a file read out of order are only known once it has been staged.
    const known = inLineOrder(rejected, ordered ? first.conflicts : []);
    if (refused(known, [], options)) return refusal(known);
    if (!ordered) sorted = await sortedImport(store, request, options);
    const session = sorted ?? first;
    const all = inLineOrder(rejected, session.conflicts);
    if (refused(all, [], options)) return refusal(all);
    const source = { file_sha256: summary.sha256, lines: summary.lines, skipped: all.length };
    return { rejected: all, ...session.commit(source), stored: true };
  } finally {
    first.rollback();
    sorted?.rollback();
  }
}

function batchOf(chunk: ParsedChunk["chunk"], speculative: SpeculativeHashes | null): ImportBatch {
  return { results: chunk.results, canonicals: chunk.canonicals, lines: chunk.lines, speculative };
}

function inLineOrder(...lists: (readonly RejectedLine[])[]): RejectedLine[] {
  return lists.flat().sort((a, b) => a.line - b.line);
}

/** Whether what was refused so far stops the import (always, unless skipInvalid). */
function refused(
  rejected: readonly RejectedLine[],
  conflicts: readonly RejectedLine[],
  options: ImportFileOptions,
): boolean {
  return !options.skipInvalid && (rejected.length > 0 || conflicts.length > 0);
}

function refusal(rejected: RejectedLine[]): ImportFileOutcome {
  return { rejected, imported: 0, alreadyPresent: 0, stored: false };
}

/** A file not in chain order: read again into a staging table on disk, then written from it sorted. */
async function sortedImport(
  store: EvidenceStore,
  request: WorkerRequest,
  options: ImportFileOptions,
): Promise<ImportSession> {
  const session = store.beginImport();
  try {
    for await (const { chunk } of parsedInWorker(request)) {
      session.stage({ results: chunk.results, canonicals: chunk.canonicals, lines: chunk.lines });
      options.onProgress?.({ phase: "reading", done: chunk.bytesRead, total: chunk.totalBytes });
    }
    const total = session.stagedCount;
    session.appendStaged((done) => options.onProgress?.({ phase: "writing", done, total }));
  } catch (error) {
    session.rollback();
    throw error;
  }
  return session;
}

/** Chunks (of about 2 400 lines) written between two full collections of this thread's heap. */
const CHUNKS_PER_COLLECTION = 32;

interface ParsedChunk {
  readonly chunk: LineChunk & { canonicals: string[] };
  /** With a chain tail: the hashes the worker computed ahead (see parse-worker.ts). */
  readonly speculative: SpeculativeHashes | null;
}

/** What the parse worker reads: results are checked against the ids and the store's clock. */
function workerRequest(store: EvidenceStore, file: string, known: KnownIds | null): WorkerRequest {
  return {
    file,
    known: known && { probes: [...known.probes], categories: [...known.categories] },
    own: store.identity,
    chainTail: null,
    importedAt: store.now(),
  };
}

/**
 * The file's checked lines, parsed (and put in canonical form) by a worker thread; with
 * `chainTail`, also hashed ahead as if appended after it in file order. `summary` is filled once
 * the whole file was read.
 */
async function* parsedInWorker(request: WorkerRequest, summary?: FileSummary): AsyncGenerator<ParsedChunk> {
  let before = request.chainTail ?? "";
  const collect = fullCollection();
  let chunks = 0;
  const worker = startParseWorker(request);
  try {
    for await (const [message] of on(worker, "message")) {
      if ("done" in message) {
        if (summary) Object.assign(summary, message.done);
        return;
      }
      if ("failed" in message) throw new Error(message.failed);
      const packed = message as PackedChunk;
      const speculative = speculativeHashesOf(packed, before);
      if (speculative) before = speculative.hashes[speculative.hashes.length - 1]!;
      yield { chunk: unpackChunk(packed), speculative };
      if (++chunks % CHUNKS_PER_COLLECTION === 0) collect();
      // Written: the worker may read one more chunk ahead.
      worker.postMessage(0);
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * The parser needs little heap: a few chunks in flight. Its young generation holds a chunk being
 * parsed (about 1 MB of objects): at 4 MB, every chunk outlived a scavenge or two and was promoted,
 * and collecting it cost more CPU (on the helper threads) than the parsing; 16 MB adds ~10 MB RSS.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 64 };

function startParseWorker(request: WorkerRequest): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    // The built worker entry (scripts/build.mjs bundles it beside the CLI).
    const entry = packagePath("dist", "record", "import", "parse-worker.js");
    return new Worker(entry, { workerData: request, resourceLimits: WORKER_LIMITS });
  }
  // Run from source (tsx, vitest): Node 20 loads a worker's entry before any --import hook, so
  // the worker registers tsx itself and then imports the TypeScript source.
  const tsx = import.meta.resolve?.("tsx/esm/api") ?? "tsx/esm/api";
  const source = new URL("./parse-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: request, resourceLimits: WORKER_LIMITS });
}
