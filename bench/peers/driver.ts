import { spawn } from "node:child_process";
import { once } from "node:events";

/**
 * Plays Prometheus for blackbox_exporter: calls its /probe URL `rate` times a second for `seconds`
 * from a process of its own (so the driver's CPU is not counted), and returns each probe's
 * `probe_duration_seconds` in ms and how many failed.
 */
const DRIVER = `
const [url, rate, seconds] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const durations = [];
let failed = 0;
const pending = [];
const started = performance.now();
const total = Math.round(rate * seconds);
async function one() {
  try {
    const text = await (await fetch(url)).text();
    const ok = /^probe_success 1$/m.test(text);
    const d = Number(/^probe_duration_seconds (\\S+)$/m.exec(text)?.[1]);
    if (ok && Number.isFinite(d)) durations.push(d * 1000); else failed++;
  } catch { failed++; }
}
(async () => {
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(one());
  }
  await Promise.all(pending);
  process.stdout.write(JSON.stringify({ durations, failed }));
})();
`;

export interface DriverOutcome {
  readonly durationsMs: number[];
  readonly failed: number;
}

export async function driveProbes(url: string, rate: number, seconds: number): Promise<DriverOutcome> {
  const child = spawn(process.execPath, ["-e", DRIVER, url, String(rate), String(seconds)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  await once(child, "exit");
  const parsed = JSON.parse(out) as { durations: number[]; failed: number };
  return { durationsMs: parsed.durations, failed: parsed.failed };
}
