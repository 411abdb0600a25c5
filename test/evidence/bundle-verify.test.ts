import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { keyIdOf } from "../../src/record/evidence/signing.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { hourlyPaymentRequests } from "./store-attack.js";

/** verify --bundle treats the bundle as hostile input: derived key ids, pinned keys, no links out, no endless files. */

const SLOW = 180_000;
let base: string;
let keyId: string;
const dirs: string[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-bundle-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const store = openEvidenceStore({
    dataDir: join(base, "data"),
    clock: new FakeClock(Date.UTC(2026, 3, 3)),
  });
  store.importResults(hourlyPaymentRequests(Date.UTC(2026, 1, 27), Date.UTC(2026, 3, 2)));
  keyId = store.signingKey()!.keyId;
  store.close();
  const run = slo(
    ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
    base,
  );
  expect(run.code, run.stderr).toBe(0);
}, SLOW);

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of the intact bundle. */
function bundle(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-bundle-"));
  dirs.push(dir);
  cpSync(join(base, "bundle"), dir, { recursive: true });
  return dir;
}

const verify = (dir: string, ...extra: string[]) => slo(["verify", "--bundle", dir, ...extra], base);

/** The agent's own key: a bundle re-summed with it is one the agent itself wrote. */
function agentKey(): KeyObject {
  return createPrivateKey(readFileSync(join(base, "data", "agent-signing-key.pem")));
}

/** Re-lists the files SHA256SUMS names (or `names`) and signs the list with `key` (the agent's by default). */
function resum(dir: string, key: KeyObject = agentKey(), names?: string[]): void {
  const listed =
    names ??
    readFileSync(join(dir, "SHA256SUMS"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.slice(66));
  const sums = execFileSync("sha256sum", listed, { cwd: dir });
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  writeFileSync(join(dir, "SHA256SUMS.sig"), sign(null, sums, key));
}

/** Re-signs the bundle's statement (optionally edited) and checkpoint with a fresh key, as someone without the agent's key would. */
function resign(
  dir: string,
  edit: (s: Record<string, unknown>) => Record<string, unknown> = (s) => s,
): string {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const statement = canonicalize(edit(JSON.parse(readFileSync(join(dir, "statement.json"), "utf8"))))!;
  const signature = sign(null, Buffer.from(statement), privateKey);
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  writeFileSync(join(dir, "statement.json"), statement);
  writeFileSync(join(dir, "statement.sig"), signature);
  // The checkpoint too: a bundle re-signed wholesale is consistent under the other key.
  const checkpoint = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8"));
  checkpoint.signature = sign(null, Buffer.from(canonicalize(checkpoint.statement)!), privateKey).toString(
    "base64",
  );
  writeFileSync(join(dir, "checkpoint.json"), canonicalize(checkpoint)!);
  // report.json is signed by the agent's key too: this forger leaves it out.
  unlinkSync(join(dir, "report.json"));
  const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8").replace(/^.* {2}report\.json\n/m, "");
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  writeFileSync(join(dir, "public_key.pem"), pem);
  writeFileSync(
    join(dir, "signature.json"),
    JSON.stringify({
      alg: "ed25519",
      key_id: keyId,
      public_key_pem: pem,
      value: signature.toString("base64"),
    }),
  );
  resum(dir, privateKey);
  return keyIdOf(publicKey);
}

describe("verify --bundle: SHA256SUMS names every file and is signed (audit finding 12)", () => {
  it(
    "a README.md rewritten and dropped from SHA256SUMS fails (exit 1): it is not signed",
    () => {
      const dir = bundle();
      writeFileSync(join(dir, "README.md"), "# All figures are fine, skip the checks\n");
      const names = readFileSync(join(dir, "SHA256SUMS"), "utf8")
        .split("\n")
        .filter((l) => l !== "" && !l.endsWith("  README.md"))
        .map((l) => l.slice(66));
      // Without the agent's key: SHA256SUMS rewritten, its signature no longer holds.
      resum(dir, generateKeyPairSync("ed25519").privateKey, names);
      const run = verify(dir);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("SHA256SUMS.sig: the signature of SHA256SUMS does not verify");
      // Even listed by the agent's own key, a bundle without README.md in the list is not whole.
      resum(dir, agentKey(), names);
      const unlisted = verify(dir);
      expect(unlisted.code).toBe(1);
      expect(unlisted.stderr).toContain("SHA256SUMS: does not list README.md");
    },
    SLOW,
  );

  it(
    "an extra file beside the listed ones fails (exit 1), and so does a missing SHA256SUMS.sig",
    () => {
      const dir = bundle();
      writeFileSync(join(dir, "NOTES.txt"), "the outage on the 14th was the merchant's fault\n");
      const extra = verify(dir);
      expect(extra.code).toBe(1);
      expect(extra.stderr).toContain("NOTES.txt: not a bundle file, and not listed in SHA256SUMS (unsigned)");
      const unsigned = bundle();
      unlinkSync(join(unsigned, "SHA256SUMS.sig"));
      const run = verify(unsigned);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("SHA256SUMS.sig: missing: nothing signs SHA256SUMS");
      expect(verify(bundle()).code).toBe(0);
    },
    SLOW,
  );
});

describe("verify: a flag pins or is refused, never ignored (audit finding 9)", () => {
  it(
    "--report with --key-id pins the key: a report re-signed by another key fails (exit 1)",
    () => {
      const report = join(base, "bundle", "report.json");
      const pinned = slo(["verify", "--report", report, "--key-id", keyId], base);
      expect(pinned.code, pinned.stderr).toBe(0);
      const other = "0123456789abcdef";
      const wrong = slo(["verify", "--report", report, "--key-id", other], base);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`signed by key ${keyId}, not the expected key ${other}`);
    },
    SLOW,
  );

  it.each<[string, string[]]>([
    ["--tsa-ca with --report", ["--report", "bundle/report.json", "--tsa-ca", "tsa.pem"]],
    ["--month with --bundle", ["--bundle", "bundle", "--month", "2026-03"]],
    ["--data-dir with --bundle", ["--bundle", "bundle", "--data-dir", "data"]],
    ["--data-dir with --report", ["--report", "bundle/report.json", "--data-dir", "data"]],
    ["--key-id with a store", ["--data-dir", "data", "--key-id", "0123456789abcdef"]],
  ])("%s is bad usage (exit 2)", (_what, args) => {
    const run = slo(["verify", ...args], base);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/does not go with|do(es)? not apply|goes with/);
  });
});

describe("verify --bundle", () => {
  it(
    "names the key id derived from public_key.pem, and --key-id pins it",
    () => {
      const intact = verify(bundle(), "--key-id", keyId);
      expect(intact.code, intact.stderr).toBe(0);
      expect(intact.stdout).toContain(`signed by key ${keyId}`);
      const dir = bundle();
      const attacker = resign(dir);
      const resigned = verify(dir);
      expect(resigned.code).toBe(0);
      expect(resigned.stdout).toContain(`signed by key ${attacker}`);
      expect(resigned.stdout).not.toContain(keyId);
      const pinned = verify(dir, "--key-id", keyId);
      expect(pinned.code).toBe(1);
      expect(pinned.stderr).toContain(`signed by key ${attacker}, not the expected key ${keyId}`);
    },
    SLOW,
  );

  it(
    "refuses an UNVERIFIED statement",
    () => {
      const dir = bundle();
      resign(dir, (s) => ({ ...s, chain: "UNVERIFIED" }));
      const run = verify(dir);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('says the chain is "UNVERIFIED"');
    },
    SLOW,
  );

  it(
    "requires the link line before the month",
    () => {
      for (const drop of ["first"] as const) {
        const dir = bundle();
        const lines = readFileSync(join(dir, "records.ndjson"), "utf8").trimEnd().split("\n");
        if (drop === "first") lines.shift();
        else lines.pop();
        writeFileSync(join(dir, "records.ndjson"), `${lines.join("\n")}\n`);
        resum(dir);
        const run = verify(dir);
        expect(run.code, drop).toBe(1);
        expect(run.stderr, drop).toMatch(
          /the record chained (before|after) the month's (first|last) .* is missing/,
        );
      }
    },
    SLOW,
  );

  it(
    "recompute.py refuses a bundle without the link line before the month too (exit 1)",
    () => {
      const dir = bundle();
      const recompute = () => spawnSync("python3", ["recompute.py"], { cwd: dir, encoding: "utf8" });
      expect(recompute().status, recompute().stderr).toBe(0);
      const lines = readFileSync(join(dir, "records.ndjson"), "utf8").split("\n");
      expect(lines[0]).not.toContain('"ts":"2026-03-');
      writeFileSync(join(dir, "records.ndjson"), lines.slice(1).join("\n"));
      const run = recompute();
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(
        /records\.ndjson: the record chained before the month's first \(seq \d+\) is missing/,
      );
    },
    SLOW,
  );

  it(
    "reads a classification.ndjson of several MiB: it has a line per record of the month, like records.ndjson",
    () => {
      const dir = bundle();
      const file = join(dir, "classification.ndjson");
      const lines = readFileSync(file, "utf8");
      expect(lines.length).toBeGreaterThan(0);
      writeFileSync(file, lines.repeat(Math.ceil((3 * 1024 * 1024) / lines.length)));
      resum(dir);
      const run = verify(dir);
      expect(run.stderr).not.toContain("over the bound");
      expect(run.code, run.stdout + run.stderr).toBe(0);
    },
    SLOW,
  );

  it(
    "checks statement.tsr when present",
    () => {
      const dir = bundle();
      writeFileSync(join(dir, "statement.tsr"), Buffer.from("30030201ff", "hex"));
      const run = verify(dir);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("statement.tsr: not a granted RFC 3161 time-stamp reply");
    },
    SLOW,
  );

  it(
    "refuses (exit 2) a symlink out of the bundle, /dev/zero, a FIFO and an oversized file, without hanging",
    () => {
      const cases: [string, (dir: string) => void, RegExp][] = [
        [
          "symlink",
          (d) => replaceWith(d, "records.ndjson", (p) => symlinkSync("/etc/passwd", p)),
          /symbolic link/,
        ],
        [
          "/dev/zero",
          (d) => replaceWith(d, "statement.json", (p) => symlinkSync("/dev/zero", p)),
          /symbolic link/,
        ],
        [
          "fifo",
          (d) => replaceWith(d, "statement.json", (p) => execFileSync("mkfifo", [p])),
          /not a regular file/,
        ],
        ["oversized", (d) => truncateSync(join(d, "public_key.pem"), 2 * 1024 * 1024), /over the bound/],
        [
          "oversized classification",
          (d) => truncateSync(join(d, "classification.ndjson"), 1024 * 1024 * 1024 + 1),
          /classification\.ndjson: 1073741825 bytes, over the bound of 1073741824/,
        ],
      ];
      for (const [name, attack, expected] of cases) {
        const dir = bundle();
        attack(dir);
        const run = verify(dir);
        expect(run.code, name).toBe(2);
        expect(run.stderr, name).toMatch(expected);
      }
    },
    SLOW,
  );
});

describe("verify --bundle: an honest flaky month", () => {
  it(
    "a month of thousands of isolated failures (report.json over 1 MiB) verifies (third audit, finding 9)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "slo-bundle-flaky-"));
      dirs.push(dir);
      writeFileSync(join(dir, "slo.yaml"), sloYaml("./data"));
      const store = openEvidenceStore({
        dataDir: join(dir, "data"),
        clock: new FakeClock(Date.UTC(2026, 3, 3)),
      });
      // Every 5 minutes through March, every fourth request a 503: each failure an incident of its own.
      const flaky = [];
      for (let t = Date.UTC(2026, 2, 1), i = 0; t < Date.UTC(2026, 3, 1); t += 300_000, i++)
        flaky.push({ ...hourlyPaymentRequests(t, t + 1)[0]!, status: i % 4 === 0 ? 503 : 200 });
      store.importResults(flaky);
      store.close();
      const run = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
        dir,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(statSync(join(dir, "bundle", "report.json")).size).toBeGreaterThan(1024 * 1024);
      const verified = slo(["verify", "--bundle", "bundle"], dir);
      expect(verified.code, verified.stderr).toBe(0);
    },
    SLOW,
  );
});

function replaceWith(dir: string, name: string, make: (path: string) => void): void {
  unlinkSync(join(dir, name));
  make(join(dir, name));
}
