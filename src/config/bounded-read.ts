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
    const buffer = Buffer.alloc(limitBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
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
