// `npm run build`: bundles the agent into dist/ with esbuild. Type checking is `npm run typecheck`
// (tsc, part of `npm test`); this only transpiles and bundles.
//
// Why a bundle and not tsc's one file per module: every `slo-agent` command started by loading
// ~290 modules (our ~150, zod's 94, ...), ~0.3 CPU-s before it did anything. Bundled, a command
// loads its entry and the chunks it needs. Each `await import()` in src/ stays a separate chunk
// (splitting), so `verify` still never loads the daemon's OpenTelemetry SDK, and the metafile
// dist/build-meta.json says which sources each chunk holds (test/cli/start-up-modules.test.ts
// reads it to check that).
//
// Entries: the CLI and the two worker threads' entries, at the paths the code starts them from
// (src/package-root.ts finds the package root from any chunk). Left outside the bundle, loaded from
// node_modules at run time: better-sqlite3 (a native addon), and the lazily loaded playwright-core
// (PDF reports; large) and nodemailer (email receivers).
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const dist = join(root, "dist");

rmSync(dist, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    "cli/main": "src/cli/main.ts",
    "agent/prober-worker": "src/agent/prober-worker.ts",
    "record/import/parse-worker": "src/record/import/parse-worker.ts",
  },
  outdir: dist,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3", "playwright-core", "nodemailer"],
  // A package's ES module build first (OpenTelemetry's, pkijs'): a lazily imported CommonJS module
  // keeps only its `default` export in a bundle (src/lazy-undici.ts is the one we still import so).
  mainFields: ["module", "main"],
  // Bundled CommonJS dependencies call require(); an ES module has none, so each chunk makes one.
  banner: {
    js: 'import { createRequire as __sloCreateRequire } from "node:module"; const require = __sloCreateRequire(import.meta.url);',
  },
  sourcemap: "linked",
  // Comments and layout off (names and structure stay: identifiers are not renamed). V8 keeps each
  // module's source text in memory for as long as the process runs, in each thread that loads it,
  // and stores a whole text in two bytes a character when one character is not Latin-1: bundled
  // comments kept a dash or a quote mark here and there, so the two largest chunks took twice
  // their size. Measured at the shipped profile (13 probes, two alternations): RSS 97-100 MB
  // instead of 105-117 MB (issue 30). A stack trace then points into a long line; for the
  // sources' lines, run with NODE_OPTIONS=--enable-source-maps (the maps are linked beside).
  minifyWhitespace: true,
  // Licence comments go to a .LEGAL.txt beside each chunk, linked from it, not into the source text.
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});
writeFileSync(join(dist, "build-meta.json"), JSON.stringify(result.metafile));
