// Probes `slo-agent demo` running in a buildah container on the host's network: waits for its
// "listening on URL" line, fetches /healthz and /metrics from the host until probe results show,
// then runs the image's own HEALTHCHECK command inside the container against that port.
//
//   node scripts/image/probe-demo.mjs DEMO_STDOUT_FILE IMAGE.json CONTAINER
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const [stdoutFile, imageFile, container] = process.argv.slice(2);
const DEADLINE_MS = 120_000;
const started = performance.now();
const inTime = () => performance.now() - started < DEADLINE_MS;

async function listeningUrl() {
  while (inTime()) {
    // A plain line, or a JSON log record whose msg says it; followed by a newline or a quote, so
    // that a line still being written is not read with half its port number.
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+)(?=["\n])/.exec(readFileSync(stdoutFile, "utf8"));
    if (match) return match[1];
    await sleep(250);
  }
  throw new Error(`no "listening on URL" line within ${DEADLINE_MS / 1000}s`);
}

const url = await listeningUrl();
console.log(`demo: listening on ${url}`);

const health = await fetch(`${url}/healthz`);
console.log(`demo: GET /healthz from the host: ${health.status}`);
if (health.status !== 200) process.exit(1);

let served = 0;
while (served === 0 && inTime()) {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  for (const line of metrics.split("\n")) {
    if (line.startsWith("slo_probe_requests_total{")) served += Number(line.split(" ").at(-1));
  }
  if (served === 0) await sleep(500);
}
console.log(`demo: /metrics counts ${served} probe requests`);
if (served === 0) process.exit(1);

// The image's HEALTHCHECK assumes port 9464; point it at the demo's port and run it as Docker would.
const image = JSON.parse(readFileSync(imageFile, "utf8"));
const [kind, ...command] = image.Docker?.config?.Healthcheck?.Test ?? [];
if (kind !== "CMD" || command.length === 0) throw new Error("the image has no exec-form HEALTHCHECK");
const port = new URL(url).port;
const retargeted = command.map((arg) => arg.replace("127.0.0.1:9464", `127.0.0.1:${port}`));
execFileSync(
  "buildah",
  ["--storage-driver", "vfs", "run", "--user", "1000:1000", container, "--", ...retargeted],
  {
    stdio: "inherit",
    timeout: 60_000,
  },
);
console.log("demo: the image's HEALTHCHECK command passes");
