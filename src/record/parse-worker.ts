/**
 * The worker thread of `slo-agent import`: reads an NDJSON file, checks every line and computes
 * each valid result's canonical form, and posts them in chunks as it goes, so that the main
 * thread chains and writes one chunk while this thread parses the next. It stays at most
 * CHUNKS_IN_FLIGHT chunks ahead (the main thread acknowledges each one it has written): parsing
 * is faster than writing, and an unbounded lead once held a whole 1 GB file in the message queue.
 */
import { parentPort, workerData } from "node:worker_threads";
import { canonicalForm } from "./canonical.js";
import { CHUNKS_IN_FLIGHT, type LineChunk, readLineChunks, type WorkerRequest } from "./line-chunks.js";

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
try {
  for await (const chunk of readLineChunks(request.file, known, canonicalForm, request.own)) {
    parentPort!.postMessage(chunk satisfies LineChunk);
    inFlight++;
    while (inFlight >= CHUNKS_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
  }
  parentPort!.postMessage({ done: true });
} catch (error) {
  parentPort!.postMessage({ failed: (error as Error).message });
}
