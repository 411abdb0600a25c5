import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** Linux reports CPU in clock ticks of 1/100 s (USER_HZ) in /proc/PID/stat. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc: the process's own, not ours. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size in MB, from /proc/PID/status. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** The CPU a process spends while `during` runs, in seconds. */
export async function cpuDuring(pid: number, during: () => Promise<void>): Promise<number> {
  const before = cpuSeconds(pid);
  await during();
  return cpuSeconds(pid) - before;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a command to its end, sampling its RSS every 50 ms: peak RSS in MB and wall seconds. */
export async function peakRssOf(
  command: string,
  args: readonly string[],
): Promise<{ peakMb: number; seconds: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] });
  let peakMb = 0;
  const sample = setInterval(() => {
    try {
      peakMb = Math.max(peakMb, rssMb(child.pid!));
    } catch {
      // The process has just ended.
    }
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(sample);
  return { peakMb, seconds: (performance.now() - started) / 1000, code };
}
