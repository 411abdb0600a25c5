import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileTooLarge, readBoundedFile } from "../../src/config/bounded-read.js";

const dir = mkdtempSync(join(tmpdir(), "slo-bounded-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("readBoundedFile reads a file whole up to its limit and refuses one byte more", () => {
  it("a file of exactly the limit is read whole, multi-byte characters included", async () => {
    const text = `${"é".repeat(500)}${"x".repeat(24)}`; // 1024 bytes
    expect(await readBoundedFile(file("exact", text), 1024)).toBe(text);
  });

  it("a file one byte over the limit is refused", async () => {
    await expect(readBoundedFile(file("over", "x".repeat(1025)), 1024)).rejects.toBeInstanceOf(FileTooLarge);
  });

  it("an empty file is the empty string", async () => {
    expect(await readBoundedFile(file("empty", ""), 1024)).toBe("");
  });

  it("a file whose size says 0 but that has content (/proc) is read whole, growing the buffer", async () => {
    const text = await readBoundedFile("/proc/self/status", 1024 * 1024);
    expect(text).toMatch(/^Name:/);
    expect(text).toContain("\nPid:");
  });

  it("an endless device is refused after the limit, not read for ever", async () => {
    await expect(readBoundedFile("/dev/zero", 200_000)).rejects.toBeInstanceOf(FileTooLarge);
  });
});
