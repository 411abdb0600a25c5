/**
 * The worker thread of `slo-agent import`: reads an NDJSON file, checks every line and computes
 * each valid result's canonical form, and posts them in chunks as it goes, so that the main
 * thread chains and writes one chunk while this thread parses the next. It stays at most
 * CHUNKS_IN_FLIGHT chunks ahead (the main thread acknowledges each one it has written): parsing
 * is faster than writing, and an unbounded lead once held a whole 1 GB file in the message queue.
 * Given the chain's tail, it also hashes each result as if all were appended in file order, which
 * they are unless some repeat a stored record: the main thread uses a hash only where it holds.
 */
import { parentPort, workerData } from "node:worker_threads";
import { canonicalForm } from "../evidence/canonical.js";
import { packChunk, transferablesOf } from "./import-chunk.js";
import { CHUNKS_IN_FLIGHT, type FileSummary, readLineChunks, type WorkerRequest } from "./line-chunks.js";

const request = workerData as WorkerRequest;
const known = request.known && {
  probes: new Map(request.known.probes),
  categories: new Set(request.known.categories),
};
let inFlight = 0;
let wake: (() => void) | null = null;
parentPort!.on("message", () => {
  inFlight--;
  wake?.();
});
let tail = request.chainTail ?? null;
const summary: FileSummary = { sha256: "", lines: 0 };
const options = { canonical: canonicalForm, own: request.own, importedAt: request.importedAt, summary };
try {
  for await (const chunk of readLineChunks(request.file, known, options)) {
    const next = packChunk(chunk, tail);
    tail = next.tail;
    parentPort!.postMessage(next.packed, transferablesOf(next.packed));
    inFlight++;
    while (inFlight >= CHUNKS_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
  }
  parentPort!.postMessage({ done: summary });
} catch (error) {
  parentPort!.postMessage({ failed: (error as Error).message });
}
