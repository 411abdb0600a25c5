import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../..");
const MAIN = join(REPO, "dist/cli/main.js");
const HOOK = join(import.meta.dirname, "loaded-modules-hook.mjs");
const RUNTIME_HOOK = join(import.meta.dirname, "runtime-use-hook.mjs");
const dir = mkdtempSync(join(tmpdir(), "slo-start-up-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** scripts/build.mjs's metafile: the sources (src/..., node_modules/...) inside each file of dist/. */
const BUILD_META = JSON.parse(readFileSync(join(REPO, "dist/build-meta.json"), "utf8")) as {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
};

/**
 * The sources `slo-agent ARGS` loads (every CLI test pays for them, CI most of all): each file of
 * the bundle it loads stands for the sources esbuild put in it; a module from node_modules left
 * outside the bundle stands for itself.
 */
function modulesLoadedBy(args: readonly string[]): string[] {
  const file = join(dir, `${args.join("_").replace(/\W/g, "-")}.txt`);
  const run = spawnSync(process.execPath, ["--import", HOOK, MAIN, ...args], {
    cwd: REPO,
    env: { ...process.env, LOADED_MODULES_FILE: file },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  const urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
  return urls.flatMap((url) => {
    if (!url.startsWith("file:")) return [url];
    const path = relative(REPO, fileURLToPath(url));
    const output = BUILD_META.outputs[path];
    return output ? Object.keys(output.inputs) : [path];
  });
}

/** Heavy at start-up and needed only by the daemon (run, demo) or by one report format. */
const HEAVY = [
  ["the OpenTelemetry SDK", /@opentelemetry\//],
  ["pino", /\/pino(-pretty)?\//],
  ["alerting", /^src\/alerts\//],
  ["the simulator", /^src\/sim\//],
  ["the PDF renderer's browser driver", /playwright-core/],
] as const;

describe("each command loads only the modules it needs", () => {
  it.each([
    "--version",
    "verify --help",
    "check-config --config slo.yaml",
    "report --help",
    "rules --config slo.yaml",
  ])("slo-agent %s loads none of the daemon's heavy modules", (command) => {
    const loaded = modulesLoadedBy(command.split(" "));
    for (const [what, pattern] of HEAVY) {
      expect(
        loaded.filter((url) => pattern.test(url)),
        what,
      ).toEqual([]);
    }
  });

  it("slo-agent run --help does load them (the daemon needs them; the hook sees every module)", () => {
    const loaded = modulesLoadedBy(["run", "--help"]);
    expect(loaded.some((url) => /@opentelemetry\//.test(url))).toBe(true);
    expect(loaded.some((url) => /^src\/alerts\//.test(url))).toBe(true);
  });

  it("slo-agent run loads OpenTelemetry's SDK and OTLP exporter only when agent.otlp is configured (a scraped agent never holds them)", () => {
    const loaded = modulesLoadedBy(["run", "--help"]);
    // /metrics is written from the agent's own meter (PrometheusMeter), the runtime metrics' too.
    const sdk = /@opentelemetry\/(exporter-metrics-otlp-http|sdk-metrics|resources|exporter-prometheus)\//;
    expect(loaded.filter((url) => sdk.test(url))).toEqual([]);
    expect(loaded.some((url) => /@opentelemetry\/instrumentation-runtime-node\//.test(url))).toBe(true);
  });
});

/** What `slo-agent ARGS` made Node.js load that it keeps for the process's life (runtime-use-hook.mjs). */
function runtimeUseOf(args: readonly string[]): string[] {
  const file = join(dir, `runtime-${args.join("_").replace(/\W/g, "-")}.txt`);
  const run = spawnSync(process.execPath, ["--import", RUNTIME_HOOK, MAIN, ...args], {
    cwd: REPO,
    env: { ...process.env, RUNTIME_USE_FILE: file },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

describe("the daemon's modules load nothing they do not use (issue 30, RSS)", () => {
  let modules: string[] | undefined;
  const loaded = () => {
    modules ??= modulesLoadedBy(["run", "--help"]);
    return modules;
  };

  it("no module of slo-agent run reaches the node binary's ICU data or Node.js's own undici as it loads", () => {
    expect(loaded().some((url) => /hdr-histogram-js/.test(url))).toBe(true);
    expect(loaded().some((url) => /undici\/lib\/dispatcher\/agent\.js/.test(url))).toBe(true);
    // hdr-histogram-js's index made an Intl.NumberFormat (~4 MB of ICU data paged in); undici's
    // index read the global Headers, which loads Node.js's bundled undici (~8 MB a thread).
    expect(runtimeUseOf(["run", "--help"])).toEqual([]);
  });

  it("slo-agent run loads undici's dispatcher and request, not its index, WebSocket, EventSource, cookies, caches or mocks", () => {
    const unused =
      /undici\/(index\.js|lib\/(web\/(websocket|eventsource|cookies|cache)|cache|mock|interceptor)\/)/;
    expect(loaded().filter((url) => unused.test(url))).toEqual([]);
  });
});

describe("the bundle's source text", () => {
  it("is ASCII: V8 holds a module's text for the process's life, two bytes a character once one is not Latin-1", () => {
    const sources = Object.keys(BUILD_META.outputs).filter((path) => path.endsWith(".js"));
    expect(sources.length).toBeGreaterThan(3);
    const notAscii = sources.filter((path) => readFileSync(join(REPO, path)).some((byte) => byte > 0x7f));
    expect(notAscii).toEqual([]);
  });
});
