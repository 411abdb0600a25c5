import { LatencyHistogram } from "../slo/histogram.js";

const FORMAT = 1;
const US_PER_MS = 1000;

/**
 * The latency of one probe-minute as stored: the distinct durations in whole microseconds (the
 * unit LatencyHistogram records in) with their counts. A minute holds a handful of values, and
 * this form costs a few µs to write and merge where an HDR V2 encoding costs ~75 µs, which would
 * cap imports well below 100k results/s. It is turned into a LatencyHistogram when read.
 *
 * Layout: byte 0 = format (1), then pairs of unsigned LEB128 varints (value delta, count),
 * values ascending, the first delta from 0.
 */
export class SparseLatency {
  readonly #counts = new Map<number, number>();

  /** Records one duration in milliseconds. */
  record(ms: number): void {
    this.add(Math.round(ms * US_PER_MS), 1);
  }

  add(us: number, count: number): void {
    this.#counts.set(us, (this.#counts.get(us) ?? 0) + count);
  }

  get count(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }

  encode(): Buffer {
    const values = [...this.#counts.keys()].sort((a, b) => a - b);
    const bytes: number[] = [FORMAT];
    let previous = 0;
    for (const value of values) {
      writeVarint(bytes, value - previous);
      writeVarint(bytes, this.#counts.get(value)!);
      previous = value;
    }
    return Buffer.from(bytes);
  }

  static decode(blob: Uint8Array): SparseLatency {
    const sparse = new SparseLatency();
    forEachValue(blob, (us, count) => sparse.add(us, count));
    return sparse;
  }
}

/** Calls visit(µs, count) for every value of an encoded minute; a damaged blob reads as empty. */
export function forEachValue(blob: Uint8Array, visit: (us: number, count: number) => void): void {
  if (blob.length === 0 || blob[0] !== FORMAT) return;
  const cursor = { at: 1 };
  let value = 0;
  while (cursor.at < blob.length) {
    const delta = readVarint(blob, cursor);
    const count = readVarint(blob, cursor);
    if (delta === null || count === null) return;
    value += delta;
    visit(value, count);
  }
}

/** Merges two encoded minutes (the SQL function used when a rollup row gains results). */
export function mergeLatencyBlobs(a: Uint8Array | null, b: Uint8Array | null): Buffer | null {
  if (a === null) return b === null ? null : Buffer.from(b);
  if (b === null) return Buffer.from(a);
  const merged = SparseLatency.decode(a);
  forEachValue(b, (us, count) => merged.add(us, count));
  return merged.encode();
}

/** Records every value of an encoded minute into a histogram. */
export function recordLatencyBlob(blob: Uint8Array, into: LatencyHistogram): void {
  forEachValue(blob, (us, count) => {
    for (let i = 0; i < count; i++) into.record(us / US_PER_MS);
  });
}

export function histogramOfBlob(blob: Uint8Array | null): LatencyHistogram | null {
  if (blob === null) return null;
  const histogram = new LatencyHistogram();
  recordLatencyBlob(blob, histogram);
  return histogram.count === 0 ? null : histogram;
}

function writeVarint(bytes: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
}

function readVarint(blob: Uint8Array, cursor: { at: number }): number | null {
  let value = 0;
  let scale = 1;
  while (cursor.at < blob.length) {
    const byte = blob[cursor.at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
  }
  return null;
}
