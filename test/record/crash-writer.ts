/**
 * Child process of crash.test.ts: records results as fast as it can and prints "ack <ts> <probe>"
 * for each one the store has committed, until it is killed with SIGKILL.
 * Usage: node crash-writer.mjs DATA_DIR START_TS, where crash-writer.mjs is this file bundled
 * (crash.test.ts bundles it once with esbuild: the test starts it 20 times, and through tsx each
 * start cost about twice the CPU).
 */

import { systemClock } from "../../src/clock/system.js";
import type { ProbeResult } from "../../src/model/result.js";
import { openEvidenceStore } from "../../src/record/index.js";

const CATEGORIES = ["payment_request", "settlements", "disputes", "account_operations", "identity"];

/** A result a second per category from `start`, with a 503 or a timeout now and then. */
function* results(start: number): Generator<ProbeResult, never> {
  for (let i = 0; ; i++) {
    const category = CATEGORIES[i % CATEGORIES.length]!;
    const kind = i % 97;
    yield {
      ts: start + Math.floor(i / CATEGORIES.length) * 1000 + (i % CATEGORIES.length) * 7,
      probe: `${category.replaceAll("_", "-")}-probe`,
      category,
      status: kind === 3 ? null : kind === 7 ? 503 : 200,
      durationMs: kind === 3 ? 10_000 : 50 + ((i * 37) % 400),
      error: kind === 3 ? "timeout" : null,
      errorCode: null,
      correlationId: null,
    };
  }
}

const [dataDir, startArg] = process.argv.slice(2);
const store = openEvidenceStore({ dataDir: dataDir!, clock: systemClock, batchMs: 5 });
store.onCommitted((batch) => {
  process.stdout.write(batch.map((c) => `ack ${c.result.ts} ${c.result.probe}\n`).join(""));
});
store.startRun(systemClock.now());
const next = results(Number(startArg));

const tick = () => {
  for (let i = 0; i < 20; i++) store.record(next.next().value);
  store.heartbeat(systemClock.now());
  systemClock.setTimeout(tick, 1);
};
tick();
