import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ProbeResult } from "../model/result.js";
import { type KnownIds, parseResultLine } from "./ndjson.js";
import type { EvidenceStore } from "./store.js";

export interface RejectedLine {
  readonly line: number;
  readonly message: string;
}

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

/** Reads and checks every line of an NDJSON file; blank lines are allowed and ignored. */
export async function readResultFile(
  file: string,
  known: KnownIds | null,
  onProgress?: (progress: ImportProgress) => void,
): Promise<{ results: ProbeResult[]; rejected: RejectedLine[] }> {
  const total = (await stat(file)).size;
  const results: ProbeResult[] = [];
  const rejected: RejectedLine[] = [];
  let number = 0;
  const take = (text: string) => {
    number++;
    const line = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (line.trim() === "") return;
    const parsed = parseResultLine(line, known);
    if ("result" in parsed) results.push(parsed.result);
    else rejected.push({ line: number, message: parsed.problem });
  };
  // Split by hand: readline costs more than the JSON parsing it feeds.
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
  let partial = "";
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const text of lines) take(text);
    onProgress?.({ phase: "reading", done: stream.bytesRead, total });
  }
  if (partial !== "") take(partial);
  return { results, rejected };
}

/**
 * `slo-agent import`: all or nothing unless skipInvalid; idempotent on probe + ts, so importing a
 * file twice stores nothing the second time.
 */
export async function importResultFile(
  store: EvidenceStore,
  file: string,
  options: ImportFileOptions,
): Promise<ImportFileOutcome> {
  const { results, rejected } = await readResultFile(file, options.known, options.onProgress);
  if (rejected.length > 0 && !options.skipInvalid) {
    return { rejected, imported: 0, alreadyPresent: 0, stored: false };
  }
  const total = results.length;
  const progress = options.onProgress;
  const outcome = store.importResults(
    results,
    progress ? (done) => progress({ phase: "writing", done, total }) : undefined,
  );
  return { rejected, ...outcome, stored: true };
}
