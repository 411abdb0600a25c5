import { execFileSync } from "node:child_process";
import { createPrivateKey, sign } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/index.js";
import { canonicalOfLine } from "../../src/record/evidence/bundle.js";
import { chainHashHex } from "../../src/record/evidence/canonical.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { hourlyPaymentRequests } from "./store-attack.js";

/**
 * A bundle reaches the agent's newest signed checkpoint on its own: records.ndjson runs from the
 * month to the head the checkpoint commits, checkpoint.json carries that signed checkpoint and
 * inputs.ndjson the input chain it commits, whose configuration record is configuration.json.
 */

const SLOW = 180_000;
let base: string;
const dirs: string[] = [];

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "slo-bundle-head-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const { config } = await loadConfig(join(base, "slo.yaml"));
  const clock = new FakeClock(Date.UTC(2026, 1, 27));
  const store = openEvidenceStore({ dataDir: join(base, "data"), clock, logger: () => {} });
  // What the daemon records when it loads its configuration.
  store.recordInput("config", effectiveConfiguration(config));
  // A maintenance window read from the feed: a maintenance observation of the input chain.
  store.feedWindows.observe(
    [
      {
        providerId: "sp-1",
        name: "Database upgrade",
        start: Date.UTC(2026, 2, 20, 1),
        end: Date.UTC(2026, 2, 20, 3),
        providerCreatedAt: Date.UTC(2026, 1, 1),
        categories: "all",
        cancelled: false,
        digest: "a".repeat(64),
      },
    ],
    clock.now(),
  );
  clock.advance(Date.UTC(2026, 3, 3) - clock.now());
  store.importResults(hourlyPaymentRequests(Date.UTC(2026, 1, 27), Date.UTC(2026, 3, 2)));
  store.close();
  const run = slo(
    ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
    base,
  );
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toBe("");
}, SLOW);

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

function bundle(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-bundle-head-"));
  dirs.push(dir);
  cpSync(join(base, "bundle"), dir, { recursive: true });
  return dir;
}

const verify = (dir: string) => slo(["verify", "--bundle", dir], base);

function resum(dir: string): void {
  const names = readFileSync(join(dir, "SHA256SUMS"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.slice(66));
  const sums = execFileSync("sha256sum", names, { cwd: dir });
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  // Signed with the agent's own key: each case tests the check after SHA256SUMS, not its signature.
  const key = createPrivateKey(readFileSync(join(base, "data", "agent-signing-key.pem")));
  writeFileSync(join(dir, "SHA256SUMS.sig"), sign(null, sums, key));
}

function lines(dir: string, name: string): string[] {
  return readFileSync(join(dir, name), "utf8").trimEnd().split("\n");
}

/** Recomputes every hash from line `from` on, as a forger without the key would. */
function rechain(all: string[], from: number, canonicalOf: (line: string) => string): string[] {
  const out = all.slice(0, from);
  let previous = (JSON.parse(all[from]!) as { prev_hash: string }).prev_hash;
  for (const line of all.slice(from)) {
    const canonical = canonicalOf(line);
    const hash = chainHashHex(previous, canonical);
    const seq = (JSON.parse(line) as { seq: number }).seq;
    out.push(`{"seq":${seq},"prev_hash":"${previous}","hash":"${hash}",${canonical.slice(1)}`);
    previous = hash;
  }
  return out;
}

describe("a bundle reaches the signed head", () => {
  it(
    "the intact bundle verifies up to the checkpoint and names its configuration record; the report names it too",
    () => {
      const run = verify(bundle());
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /committed by the signed checkpoint at seq \d+, configuration is input record seq 1/,
      );
      const report = JSON.parse(readFileSync(join(base, "bundle", "report.json"), "utf8"));
      expect(report.evidence.config_records).toEqual([
        {
          seq: 1,
          loaded_at: "2026-02-27T00:00:00.000Z",
          sha256: report.evidence.config_sha256,
        },
      ]);
      // configuration.json is the log's record, byte for byte.
      const input = JSON.parse(lines(join(base, "bundle"), "inputs.ndjson")[0]!);
      expect(readFileSync(join(base, "bundle", "configuration.json"), "utf8")).toBe(
        canonicalize(input.payload),
      );
    },
    SLOW,
  );

  it("the README's python3 + openssl check of the checkpoint runs as written, and fails on a cut tail", () => {
    const dir = bundle();
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## 3b."));
    const script = /```sh\n([\s\S]+?)```/.exec(section)![1]!;
    const out = execFileSync("sh", ["-c", script], { cwd: dir, encoding: "utf8", stdio: "pipe" });
    expect(out).toMatch(/configuration record seq 1: [0-9a-f]{64}/);
    expect(out).toMatch(/ok: head seq \d+ input head seq 2 signed at 2026-04-03T/);
    expect(out).toContain("Signature Verified Successfully");
    const all = lines(dir, "records.ndjson");
    writeFileSync(join(dir, "records.ndjson"), `${all.slice(0, -1).join("\n")}\n`);
    expect(() => execFileSync("sh", ["-ec", script], { cwd: dir, stdio: "pipe" })).toThrow(
      /does not end at the head the checkpoint signs/,
    );
  });

  it("without checkpoint.json: exit 1, nothing ties the month to the signed head", () => {
    const dir = bundle();
    unlinkSync(join(dir, "checkpoint.json"));
    const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8").replace(/^.* {2}checkpoint\.json\n/m, "");
    writeFileSync(join(dir, "SHA256SUMS"), sums);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("checkpoint.json: missing");
  });

  it("the records after the month cut off: exit 1, they end before the signed head", () => {
    const dir = bundle();
    const all = lines(dir, "records.ndjson");
    const lastOfMonth = all.findLastIndex((l) => l.includes('"ts":"2026-03-'));
    writeFileSync(join(dir, "records.ndjson"), `${all.slice(0, lastOfMonth + 2).join("\n")}\n`);
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /records\.ndjson: ends at seq \d+, the signed checkpoint commits the chain up to seq \d+/,
    );
  });

  it("a record after the month rewritten and every hash after it recomputed: exit 1 at the head", () => {
    const dir = bundle();
    const all = lines(dir, "records.ndjson");
    const at = all.findIndex((l) => l.includes('"ts":"2026-04-01T05:'));
    all[at] = all[at]!.replace('"status":200', '"status":503');
    writeFileSync(
      join(dir, "records.ndjson"),
      `${rechain(all, at, (l) => canonicalOfLine(l)!).join("\n")}\n`,
    );
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /records\.ndjson: seq \d+: its hash is not the head the signed checkpoint commits/,
    );
  });

  it("the checkpoint's head edited: exit 1, its signature does not verify", () => {
    const dir = bundle();
    const checkpoint = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8"));
    checkpoint.statement.head_hash = "0".repeat(64);
    writeFileSync(join(dir, "checkpoint.json"), canonicalize(checkpoint)!);
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("checkpoint.json: its signature does not verify with public_key.pem");
  });

  it("the configuration record rewritten in inputs.ndjson and rechained: exit 1, not the input head signed", () => {
    const dir = bundle();
    const all = lines(dir, "inputs.ndjson");
    all[0] = all[0]!.replace('"payload":{', '"payload":{"forged":true,');
    const rechained = rechain(all, 0, (l) => `{${l.slice(l.indexOf(',"kind":') + 1)}`);
    writeFileSync(join(dir, "inputs.ndjson"), `${rechained.join("\n")}\n`);
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /inputs\.ndjson: its input seq 2 is not the record the signed checkpoint commits as the input head \(another hash\)/,
    );
  });

  it("a feed window moved in maintenance.json: exit 1 naming it and the observation it contradicts", () => {
    const dir = bundle();
    const path = join(dir, "maintenance.json");
    const maintenance = JSON.parse(readFileSync(path, "utf8"));
    expect(maintenance.feed_windows).toHaveLength(1);
    maintenance.feed_windows[0].end += 3_600_000;
    writeFileSync(path, JSON.stringify(maintenance));
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /maintenance\.json: feed window sp-1 is not the window its newest maintenance observation records \(inputs\.ndjson seq 2\)/,
    );
  });

  it("report.json with a changed credit: exit 1 naming report.json", () => {
    const dir = bundle();
    const path = join(dir, "report.json");
    const report = JSON.parse(readFileSync(path, "utf8"));
    report.service_classes[0].credit_pct = 50;
    writeFileSync(path, JSON.stringify(report));
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^altered: report\.json: /m);
  });

  it("a recompute.py that is not the one the signed report names: exit 1", () => {
    const dir = bundle();
    const path = join(dir, "recompute.py");
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace("def p99(", "def p99_(durations):\n    return 0\n\n\ndef p99("),
    );
    resum(dir);
    const run = verify(dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /recompute\.py: its SHA-256 [0-9a-f]{64} is not the [0-9a-f]{64} the signed report names/,
    );
  });

  it(
    "a configuration file changed since the agent recorded its configuration is a warning naming the records and what differs",
    () => {
      writeFileSync(join(base, "changed.yaml"), sloYaml("./data").replace("99.0", "98.0"));
      const run = slo(["report", "--month", "2026-03", "--format", "json", "--config", "changed.yaml"], base);
      expect(run.code).toBe(0);
      const warning =
        /the configuration given to this report \(config_sha256 [0-9a-f]{64}\) is none of the configurations the agent recorded for 2026-03 \(input records 1\): .*service_classes\.transaction_critical\.availability_target: report 0\.98, log 0\.99/;
      expect(run.stderr).toMatch(warning);
      expect(JSON.parse(run.stdout).warnings[0]).toMatch(warning);
    },
    SLOW,
  );
});
