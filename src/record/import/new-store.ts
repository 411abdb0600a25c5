import { existsSync, rmdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_KEY_FILE } from "../evidence/signing.js";
import { EVIDENCE_FILE } from "../schema.js";

/**
 * What opening the store in dataDir creates, so that a refused import can take it away again:
 * an import that stored nothing must not leave an empty store (or directory) that looks like evidence.
 */
export function newStoreFiles(dataDir: string): { remove(): void } {
  const store = join(dataDir, EVIDENCE_FILE);
  if (existsSync(store)) return { remove: () => {} };
  // Closing a new store signs a checkpoint, which creates the agent key beside it when there was none.
  const key = join(dataDir, DEFAULT_KEY_FILE);
  const keyIsNew = !existsSync(key);
  const dirs: string[] = [];
  for (let dir = resolve(dataDir); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir))
    dirs.push(dir);
  return {
    remove() {
      for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${store}${suffix}`, { force: true });
      if (keyIsNew) rmSync(key, { force: true });
      // Innermost first, and only while empty: nothing the user put there is ever removed.
      for (const dir of dirs) {
        try {
          rmdirSync(dir);
        } catch {
          return;
        }
      }
    },
  };
}
