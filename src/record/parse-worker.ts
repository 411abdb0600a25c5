/**
 * The worker thread of `slo-agent import`: reads an NDJSON file, checks every line and computes
 * each valid result's canonical form, and posts them in chunks as it goes, so that the main
 * thread chains and writes one chunk while this thread parses the next.
 */
import { parentPort, workerData } from "node:worker_threads";
import { canonicalForm } from "./canonical.js";
import { type LineChunk, readLineChunks, type WorkerRequest } from "./line-chunks.js";

const request = workerData as WorkerRequest;
const known = request.known && {
  probes: new Map(request.known.probes),
  categories: new Set(request.known.categories),
};
try {
  for await (const chunk of readLineChunks(request.file, known, canonicalForm)) {
    parentPort!.postMessage(chunk satisfies LineChunk);
  }
  parentPort!.postMessage({ done: true });
} catch (error) {
  parentPort!.postMessage({ failed: (error as Error).message });
}
