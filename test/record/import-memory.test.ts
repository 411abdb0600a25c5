import { execFile } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

// Import streams: its memory must not grow with the file (issue 10: 1.14M lines took 931 MB).
// The bound is 200 MB whatever the size. A 2M-line import takes a minute or two on a busy CI box,
// so this test imports a small and a three times larger file and checks both peaks are within
// the bound and the larger one is not materially higher: memory that grew with the lines (about
// 800 bytes a line before streaming) would add over 300 MB. The 2M-line figure itself is
// measured by `npm run bench` (record.import_cli_2m) and recorded in docs/evidence-store.md.
const CLI = join(import.meta.dirname, "../../dist/cli/main.js");
const SMALL = 200_000;
const LARGE = 600_000;
const LIMIT_KB = 200 * 1024;
/** What the larger file may add to the peak: garbage collection timing, not growth. */
const GROWTH_LIMIT_KB = 24 * 1024;
/** Prints the whole process's peak RSS (every thread) as it exits. */
const PEAK_RSS_HOOK = `data:text/javascript,process.on("exit",()=>process.stderr.write("peak-rss-kb="+process.resourceUsage().maxRSS+"\\n"))`;

const dir = mkdtempSync(join(tmpdir(), "slo-import-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `lines` results in ts order, written a megabyte at a time. */
function writeLines(file: string, lines: number): void {
  const fd = openSync(file, "w");
  const start = Date.UTC(2026, 9, 1);
  let buffer = "";
  for (let i = 0; i < lines; i++) {
    const ts = new Date(start + i * 1000).toISOString();
    const status = i % 97 === 0 ? 503 : 200;
    buffer += `{"ts":"${ts}","probe":"p${i % 4}","category":"c","status":${status},"duration_ms":${((i * 7919) % 1000) + 0.5},"error":null}\n`;
    if (buffer.length > 1 << 20) {
      writeSync(fd, buffer);
      buffer = "";
    }
  }
  writeSync(fd, buffer);
  closeSync(fd);
}

/** Imports `lines` lines into a fresh store in a child process; its peak RSS in KB. */
async function peakOfImport(lines: number): Promise<number> {
  const file = join(dir, `${lines}.ndjson`);
  writeLines(file, lines);
  const run = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        `--import=${PEAK_RSS_HOOK}`,
        CLI,
        "import",
        "--allow-unknown",
        "--data-dir",
        join(dir, `data-${lines}`),
        file,
      ],
      { cwd: dir, timeout: 600_000 },
      (_error, stdout, stderr) => resolve({ stdout, stderr }),
    );
  });
  expect(run.stdout).toBe(`imported ${lines} results (0 already present)\n`);
  rmSync(file);
  return Number(/peak-rss-kb=(\d+)/.exec(run.stderr)?.[1]);
}

it(`imports ${SMALL} and ${LARGE} lines within 200 MB, the larger file adding nothing material`, async () => {
  const small = await peakOfImport(SMALL);
  const large = await peakOfImport(LARGE);
  const peaks = `peak RSS ${small} KB for ${SMALL} lines, ${large} KB for ${LARGE}`;
  expect(small, peaks).toBeGreaterThan(0);
  expect(Math.max(small, large), peaks).toBeLessThanOrEqual(LIMIT_KB);
  expect(large - small, peaks).toBeLessThanOrEqual(GROWTH_LIMIT_KB);
}, 900_000);
