import { spawnSync } from "node:child_process";

/** Runs a bundle's own recompute.py in it, as the provider's auditor would. */
export function recompute(cwd: string): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync("python3", ["recompute.py"], { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
