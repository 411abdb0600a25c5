import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
/** Built once for every suite by test/global-build.ts. */
const CLI = join(ROOT, "dist/cli/main.js");

function help(args: readonly string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args, "--help"], { encoding: "utf8", timeout: 60_000 });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout;
}

const COMMANDS = [
  "run",
  "demo",
  "check-config",
  "import",
  "report",
  "verify",
  "evidence export",
  "rules",
  "dashboards",
];

describe("--help is complete", () => {
  const top = help([]);

  it("the top level lists every command and the exit codes", () => {
    for (const command of COMMANDS) expect(top).toMatch(new RegExp(`^  ${command.split(" ")[0]}\\b`, "m"));
    expect(top).toMatch(/Exit codes: 0 success, 1 .*, 2 bad usage/s);
  });

  it("the top level names every report format report --format accepts", () => {
    const choices = /\(choices: ([^)]*)\)/s.exec(help(["report"]))?.[1] ?? "";
    const formats = [...choices.matchAll(/"([a-z]+)"/g)].map((m) => m[1] as string);
    expect(formats).toEqual(expect.arrayContaining(["json", "md", "html", "csv", "pdf"]));
    const line = top.slice(top.indexOf("  report"), top.indexOf("  verify")).replace(/\s+/g, " ");
    for (const name of ["JSON", "Markdown", "HTML", "CSV", "PDF"]) expect(line).toContain(name);
  });

  it.each(COMMANDS)("slo-agent %s --help has examples and exit codes", (command) => {
    const text = help(command.split(" "));
    expect(text).toMatch(/^Examples:$/m);
    expect(text).toMatch(/^Exit codes: 0 /m);
  });
});
