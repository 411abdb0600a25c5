import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * Which test files are system suites: those that start other processes (the built CLI, Prometheus,
 * Alertmanager, promtool, openssl, Chromium, a shell), directly or through a helper under test/.
 * They are slow because they wait on those processes, not on this one's CPU, so vitest runs them
 * after the unit suites and several at a time. Everything else is a unit suite. Decided from the
 * source text, so a new test file lands in the right project without a list to keep up to date.
 */
const STARTS_PROCESSES = /from "node:child_process"|from "playwright-core"|chromium|src\/reports\/pdf\.js/;
const LOCAL_IMPORT = /from "(\.{1,2}\/[^"]+)"/g;

function startsProcesses(file: string, seen: Set<string>): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false;
  }
  if (STARTS_PROCESSES.test(text)) return true;
  for (const [, spec] of text.matchAll(LOCAL_IMPORT)) {
    const target = resolve(dirname(file), spec!.replace(/\.js$/, ".ts"));
    // Only helpers under test/ are followed: src/ is the code under test, run in-process.
    if (target.includes(`${join("test", "")}`) && startsProcesses(target, seen)) return true;
  }
  return false;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : testFiles(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The system suites' paths relative to `root` (forward slashes, as vitest globs want them). */
export function systemSuites(root: string): string[] {
  return testFiles(join(root, "test"))
    .filter((file) => startsProcesses(file, new Set()))
    .map((file) => relative(root, file).split("\\").join("/"))
    .sort();
}
