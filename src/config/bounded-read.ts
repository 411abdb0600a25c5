import { open } from "node:fs/promises";

/** A file larger than the limit its kind allows. */
export class FileTooLarge extends Error {
  readonly code = "EFBIG";
  constructor(limitBytes: number) {
    super(`larger than ${formatBytes(limitBytes)}, the most such a file may hold`);
    this.name = "FileTooLarge";
  }
}

/** The most a configuration or probe file may hold. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * Reads a UTF-8 file, refusing one longer than `limitBytes` after reading at most one byte more:
 * a device such as /dev/zero or an endless pipe fails at once instead of filling the memory.
 */
export async function readBoundedFile(path: string, limitBytes: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (info.isFile() && info.size > limitBytes) throw new FileTooLarge(limitBytes);
    // Sized by the file (a byte more, to see it grow), not by the limit: a fresh limit-sized buffer
    // for each of a configuration's files was most of what loading it allocated. Grown as needed
    // up to limitBytes + 1 for a file that grows meanwhile, or a device or pipe of no size.
    const most = limitBytes + 1;
    let buffer = Buffer.allocUnsafe(Math.min(most, info.isFile() ? info.size + 1 : 64 * 1024));
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length < buffer.length) continue;
      if (buffer.length === most) break;
      const grown = Buffer.allocUnsafe(Math.min(most, buffer.length * 2));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    if (length > limitBytes) throw new FileTooLarge(limitBytes);
    return buffer.toString("utf8", 0, length);
  } finally {
    await handle.close();
  }
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
