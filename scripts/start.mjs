// `npm start`: builds dist/ only when a source is newer than the last build, then runs the agent
// in the foreground with the terminal (same process group), forwarding SIGINT, SIGTERM and SIGHUP
// and exiting with its exit code, so Ctrl-C and `kill <npm pid>` both stop everything.
// Usage: npm start [-- demo|run ARGS...]   (default: demo)
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const main = join(root, "dist/cli/main.js");

/** The newest modification time under `dir` (recursively), 0 when it does not exist. */
function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function mtimeOf(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

const sources = Math.max(
  newestMtime(join(root, "src")),
  ...["scripts/build.mjs", "package.json"].map((f) => mtimeOf(join(root, f))),
);
// dist/cli/main.js is rewritten by every build, so its time is the last build's.
if (sources > mtimeOf(main)) {
  process.stderr.write("npm start: sources changed since the last build; building dist/\n");
  const build = spawnSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const args = process.argv.slice(2);
// The same young-generation size and malloc arenas as the bin's shebang (src/cli/main.ts says
// why): `npm start` is a daemon too, and the default 16 MB semi-spaces cost ~35 MB of resident memory.
const agent = spawn(
  process.execPath,
  ["--max-semi-space-size=2", main, ...(args.length > 0 ? args : ["demo"])],
  {
    stdio: "inherit",
    env: { MALLOC_ARENA_MAX: "2", ...process.env },
  },
);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => agent.kill(signal));
}
// npm runs this under `sh -c`, and sh does not pass on the SIGTERM npm forwards: when the parent
// goes away, stop the agent as if signalled, rather than leave it running with no one to stop it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) agent.kill("SIGTERM");
}, 250).unref();
agent.on("exit", (code, signal) => {
  process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
  process.exit();
});
