import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { isoUtc } from "../model/time.js";

/** The lock file (an SQLite database held in an exclusive transaction) and the holder's note. */
export const LOCK_FILE = "agent.lock";
export const HOLDER_FILE = "agent.pid";

/** Another agent holds the data directory. */
export class DataDirInUse extends Error {
  readonly holderPid: number | null;
  constructor(dataDir: string, holder: LockHolder | null) {
    const who =
      holder === null
        ? "another agent (pid unknown)"
        : `another agent (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
    super(`data dir ${dataDir} is in use by ${who}; stop it or give this one another --data-dir`);
    this.name = "DataDirInUse";
    this.holderPid = holder?.pid ?? null;
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

export interface DataDirLock {
  release(): void;
}

/**
 * One agent per data directory. The lock is an exclusive SQLite transaction on `agent.lock`, held
 * for the life of the process: the kernel drops the underlying file lock when the process dies,
 * however it dies (kill -9, OOM, power loss), so no crash can leave the directory locked.
 * `agent.pid` only names the holder for the error message; it is never trusted as the lock.
 */
export function lockDataDir(dataDir: string, now: number): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY")
      throw new DataDirInUse(dataDir, holderOf(dataDir));
    throw error;
  }
  const holderFile = join(dataDir, HOLDER_FILE);
  const holder: LockHolder = { pid: process.pid, host: hostname(), since: isoUtc(now) };
  writeFileSync(holderFile, `${JSON.stringify(holder)}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(holderFile, { force: true });
      db.close();
    },
  };
}

function holderOf(dataDir: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number") return null;
    return { pid: parsed.pid, host: String(parsed.host ?? "?"), since: String(parsed.since ?? "?") };
  } catch {
    // The holder may be between taking the lock and writing its note.
    return null;
  }
}
