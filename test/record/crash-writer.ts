/**
 * Child process of crash.test.ts: records results as fast as it can and prints "ack <ts> <probe>"
 * for each one the store has committed, until it is killed with SIGKILL.
 * Usage: node --import tsx crash-writer.ts DATA_DIR START_TS
 */
import { systemClock } from "../../src/clock/system.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { generateResults } from "./results.js";

const [dataDir, startArg] = process.argv.slice(2);
const store = openEvidenceStore({ dataDir: dataDir!, clock: systemClock, batchMs: 5 });
store.onCommitted((batch) => {
  process.stdout.write(batch.map((c) => `ack ${c.result.ts} ${c.result.probe}\n`).join(""));
});
store.startRun(systemClock.now());
const results = generateResults(Number(startArg), 10_000_000, 1_000);
const tick = () => {
  for (let i = 0; i < 20; i++) store.record(results.next().value!);
  store.heartbeat(systemClock.now());
  systemClock.setTimeout(tick, 1);
};
tick();
