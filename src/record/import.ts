import { on } from "node:events";
import { Worker } from "node:worker_threads";
import type { ProbeResult } from "../model/result.js";
import type { ImportSession } from "./import-session.js";
import { type LineChunk, type RejectedLine, readLineChunks, type WorkerRequest } from "./line-chunks.js";
import type { KnownIds } from "./ndjson.js";
import type { EvidenceStore } from "./store.js";

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
 * `slo-agent import`: all or nothing unless skipInvalid; idempotent on probe + ts, so importing a
 * file twice stores nothing the second time. A worker thread parses and checks the lines while
 * this thread chains and writes them, in one transaction; a file not in ts order is sorted
 * once it has been read, and written from the start.
 */
export async function importResultFile(
  store: EvidenceStore,
  file: string,
  options: ImportFileOptions,
): Promise<ImportFileOutcome> {
  const rejected: RejectedLine[] = [];
  let session: ImportSession | null = store.beginImport();
  let ordered = true;
  try {
    // Chunks are written and dropped as they come: keeping a month of them costs more in garbage
    // collection than reading an unordered file a second time.
    for await (const chunk of parsedInWorker(file, options.known)) {
      for (const line of chunk.rejected) rejected.push(line);
      if (session && rejected.length > 0 && !options.skipInvalid) session = ended(session);
      if (session && !session.appendInOrder(chunk.results, chunk.canonicals ?? undefined)) {
        session = ended(session);
        ordered = false;
      }
      options.onProgress?.({ phase: "reading", done: chunk.bytesRead, total: chunk.totalBytes });
    }
    if (rejected.length > 0 && !options.skipInvalid) {
      return { rejected, imported: 0, alreadyPresent: 0, stored: false };
    }
    if (!ordered) session = await sortedImport(store, file, options);
    return { rejected, ...session!.commit(), stored: true };
  } finally {
    session?.rollback();
  }
}

function ended(session: ImportSession): null {
  session.rollback();
  return null;
}

/** A file not in chain order: read again, all of it, sorted, and written in a fresh transaction. */
async function sortedImport(
  store: EvidenceStore,
  file: string,
  options: ImportFileOptions,
): Promise<ImportSession> {
  const results: ProbeResult[] = [];
  const canonicals: string[] = [];
  for await (const chunk of parsedInWorker(file, options.known)) {
    for (const result of chunk.results) results.push(result);
    for (const canonical of chunk.canonicals ?? []) canonicals.push(canonical);
  }
  const session = store.beginImport();
  try {
    session.appendAll(results, canonicals, (done) =>
      options.onProgress?.({ phase: "writing", done, total: results.length }),
    );
  } catch (error) {
    session.rollback();
    throw error;
  }
  return session;
}

/** The file's checked lines, parsed (and put in canonical form) by a worker thread. */
async function* parsedInWorker(file: string, known: KnownIds | null): AsyncGenerator<LineChunk> {
  const request: WorkerRequest = {
    file,
    known: known && { probes: [...known.probes], categories: [...known.categories] },
  };
  const worker = startParseWorker(request);
  try {
    for await (const [message] of on(worker, "message")) {
      if ("done" in message) return;
      if ("failed" in message) throw new Error(message.failed);
      yield message as LineChunk;
    }
  } finally {
    await worker.terminate();
  }
}

function startParseWorker(request: WorkerRequest): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./parse-worker.js", import.meta.url), { workerData: request });
  }
  // Run from source (tsx, vitest): Node 20 loads a worker's entry before any --import hook, so
  // the worker registers tsx itself and then imports the TypeScript source.
  const tsx = import.meta.resolve?.("tsx/esm/api") ?? "tsx/esm/api";
  const source = new URL("./parse-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: request });
}
