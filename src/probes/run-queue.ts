import { closeSync, openSync, readSync } from "node:fs";

/** Linux's per-thread scheduler statistics: "ns on CPU, ns waiting on a run queue, timeslices". */
const SCHEDSTAT = "/proc/thread-self/schedstat";

/** The calling thread's run-queue wait so far, in ms; close() gives its file back. */
export interface RunQueueReader {
  readonly waitedMs: () => number;
  readonly close: () => void;
}

/**
 * How long the calling thread has waited, runnable, for a CPU (in the kernel's run queue) since it
 * began: time the event loop cannot see, since a thread woken for a response it has not been
 * scheduled to read is, to the loop, still asleep in its poll. Null where the kernel does not say
 * (not Linux, or a kernel without schedstats). It must be made on the thread it is to measure: the
 * file is opened once through /proc/thread-self, so it stays that thread's; each reading is one
 * pread of it (~2-4 µs), not an open.
 */
export function runQueueReader(): RunQueueReader | null {
  let fd: number;
  try {
    fd = openSync(SCHEDSTAT, "r");
  } catch {
    return null;
  }
  const buffer = Buffer.alloc(96);
  const waitedNs = (): number | null => {
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return secondFieldOf(buffer, length);
  };
  let first: number | null;
  try {
    first = waitedNs();
  } catch {
    first = null;
  }
  if (first === null) {
    closeSync(fd);
    return null;
  }
  let closed = false;
  let lastNs = first;
  const close = () => {
    if (closed) return;
    closed = true;
    closeSync(fd);
  };
  return {
    // Never throws (it is read inside undici's response handler): once a reading fails the last
    // one is kept, so a wait after it counts as none, as where the kernel does not tell it at all.
    waitedMs: () => {
      if (closed) return lastNs / 1e6;
      try {
        lastNs = waitedNs() ?? lastNs;
      } catch {
        close();
      }
      return lastNs / 1e6;
    },
    close,
  };
}

/** The second space-separated decimal field of the first `length` bytes, read in place (no string). */
function secondFieldOf(buffer: Buffer, length: number): number | null {
  let i = 0;
  while (i < length && buffer[i] !== 0x20) i++;
  i++;
  const start = i;
  let value = 0;
  for (; i < length; i++) {
    const digit = buffer[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return i > start ? value : null;
}
