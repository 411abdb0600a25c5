import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
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
import type { ProbeResult } from "../../src/model/index.js";
import { keyIdOf } from "../../src/record/evidence/signing.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";

/** verify --bundle treats the bundle as hostile input: derived key ids, pinned keys, no links out, no endless files. */

const SLOW = 180_000;
const HOUR = 3_600_000;
let base: string;
let keyId: string;
const dirs: string[] = [];

function hourly(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: t % (7 * HOUR) === 0 ? 503 : 200,
      durationMs: 100,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-bundle-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const store = openEvidenceStore({
    dataDir: join(base, "data"),
    clock: new FakeClock(Date.UTC(2026, 3, 3)),
  });
  store.importResults(hourly(Date.UTC(2026, 1, 27), Date.UTC(2026, 3, 2)));
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

function resum(dir: string): void {
  const names = readFileSync(join(dir, "SHA256SUMS"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.slice(66));
  writeFileSync(join(dir, "SHA256SUMS"), execFileSync("sha256sum", names, { cwd: dir, encoding: "utf8" }));
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
  resum(dir);
  return keyIdOf(publicKey);
}

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

function replaceWith(dir: string, name: string, make: (path: string) => void): void {
  unlinkSync(join(dir, name));
  make(join(dir, name));
}
