import type { StatementTimestamp } from "./timestamp.js";

/** How to check statement.tsr, when the bundle has one. */
function timestampSection(timestamp: StatementTimestamp): string {
  return `
## 2b. The statement existed at ${timestamp.gen_time}

\`statement.tsr\` is the RFC 3161 time-stamp reply of the time-stamp authority
\`${timestamp.tsa_url}\` over SHA-256 of \`statement.json\`. Get the TSA's CA certificate
(\`tsa.pem\`) from the TSA operator's published documentation, not from the bundle or the
merchant, and save it beside this directory, not in it (a file added to the bundle fails
\`slo-agent verify --bundle\`), then:

    openssl ts -verify -data statement.json -in statement.tsr -CAfile ../tsa.pem

This prints \`Verification: OK\`. \`openssl ts -reply -in statement.tsr -text\` shows the time
(\`Time stamp:\`), the TSA and the nonce.
`;
}

const RECOMPUTE_ROWS = `| \`configuration.json\` | the agent's configuration the month was computed with, secrets removed, as RFC 8785 JSON: its SHA-256 is the statement's \`config_sha256\` |
| \`maintenance.json\` | the maintenance feed's windows as the agent read them (\`firstSeenAt\` is the notice it can prove), and the report's verdict on each window and exclusion |
| \`classification.ndjson\` | one line per record of the month: \`counted\`, or excluded by \`maintenance\` or \`exclusion\` (with its id), \`merchant_side\` (with the failing control results), \`agent_error\` or \`target_unreached\` (with \`since\`: when the probe's destination took effect, from the agent's input log; null for from the first record) |
| \`report.json\` | the month's report, signed whole (\`report_signature\`) |
| \`rollups.ndjson\` | only for a month retention pruned: the rollups its pruned days are counted from, \`{"day", "row"}\`, each day's rows the ones its rollup commitment in \`inputs.ndjson\` digests |
| \`recompute.py\` | recomputes every figure of the report from the files above (Python 3, standard library only) |
`;

const CHECKPOINT_SECTION = `## 3b. The records reach the agent's newest signed checkpoint

\`records.ndjson\` runs on past the month to the head the checkpoint signs, so a record changed
anywhere after the month (every hash after it recomputed or not) no longer leads to that head.
The checkpoint's signature covers the RFC 8785 form of its \`statement\`; the input chain is
hashed like the records, \`canonical = "{" + line[line.index(',"kind":') + 1:]\`, from a
\`prev_hash\` of 64 zeros:

\`\`\`sh
python3 - <<'PY'
import base64, hashlib, json, os
scratch = os.environ.get("TMPDIR", "/tmp")  # never the bundle: a file added to it fails verify
checkpoint = json.load(open("checkpoint.json", encoding="utf-8"))
signed = checkpoint["statement"]  # strings and integers only: sorted compact JSON is its RFC 8785 form
open(os.path.join(scratch, "checkpoint.jcs"), "wb").write(json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
open(os.path.join(scratch, "checkpoint.sig"), "wb").write(base64.b64decode(checkpoint["signature"], validate=True))
*_, last = open("records.ndjson", encoding="utf-8")
last = json.loads(last)
if (last["seq"], last["hash"]) != (signed["head_seq"], signed["head_hash"]):
    raise SystemExit("records.ndjson does not end at the head the checkpoint signs")
previous, seq = "0" * 64, 0
for number, line in enumerate(open("inputs.ndjson", encoding="utf-8"), 1):
    line = line.rstrip("\\n")
    record = json.loads(line)
    canonical = "{" + line[line.index(',"kind":') + 1:]
    recomputed = hashlib.sha256((previous + "\\n" + canonical).encode("utf-8")).hexdigest()
    if record["prev_hash"] != previous or record["hash"] != recomputed or record["seq"] != seq + 1:
        raise SystemExit(f"inputs.ndjson:{number}: not chained, or its content does not match its hash")
    if record["kind"] == "config":
        print(f"configuration record seq {record['seq']}:", hashlib.sha256(json.dumps(record["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")).hexdigest())
    previous, seq = recomputed, seq + 1
if (seq, previous) != (signed.get("inputs_seq", 0), signed.get("inputs_hash", "0" * 64)):
    raise SystemExit("inputs.ndjson does not end at the input head the checkpoint signs")
print("ok: head seq", signed["head_seq"], "input head seq", seq, "signed at", signed["created_at"])
PY
openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in "\${TMPDIR:-/tmp}/checkpoint.jcs" -sigfile "\${TMPDIR:-/tmp}/checkpoint.sig"
\`\`\`

A configuration record whose SHA-256 is the statement's \`config_sha256\` is the configuration the
agent loaded at that time (\`sha256sum configuration.json\` gives the same). For a month that has
ended, the checkpoint's \`created_at\` must be after the month's end: an older checkpoint would
leave the tail unproven.

`;

const RECOMPUTE_SECTION = `## 4. Every figure, recomputed from this bundle alone

    sha256sum configuration.json          # the statement's config_sha256
    python3 recompute.py > "\${TMPDIR:-/tmp}/figures.json"

Run it only after sections 1 to 3 passed (or \`slo-agent verify --bundle DIR\` exited 0):
\`recompute.py\` trusts the files beside it and checks no signature (Python's standard library has
no Ed25519), so on a bundle whose files were rewritten it recomputes the rewritten figures.

\`recompute.py\` is short enough to read first. It takes each record of the month from
\`records.ndjson\` with its verdict from \`classification.ndjson\`, recomputes requests,
successful, excluded, availability and the nearest-rank p99 per category, each service class's
pooled availability and its credit tier (the SLA arithmetic, written out at the top of the
script; the tiers from \`configuration.json\`, the maintenance policy from the configuration
records of \`inputs.ndjson\`: the one in force when the month began), and prints them as one JSON object. It also checks every verdict against what lies beside it: a
maintenance exclusion must fall in the qualifying part of that window (notice, occasions and
hours re-applied to the declared and feed windows, a feed window whose id a declared one also has counted as \`feed:<id>\`; a window whose start, end or categories
changed is judged in parts, each changed part from when the change was first seen: a feed
window's by the maintenance observations of \`inputs.ndjson\`, a declared one's by its
configuration records, the first from the later of its \`announcedAt\` and its first load, a change from when it was loaded), a declared exclusion inside its interval, a
\`merchant_side\` one on failed, fresh results of \`controlsQuorum\` controls (those of the
configuration record in force when the record was sent) found in \`records.ndjson\`, each a healthy witness (contract section 14) as far as those records reach back, an
\`agent_error\` one on a record flagged so, a \`target_unreached\` one on a request that got no connection
whose probe got no response between \`since\` and it in \`records.ndjson\` and none of whose
tried addresses (\`observed.tried\`) an earlier record got a response from (\`observed.address\`), and no counted record may lie inside an excluding
interval. Any verdict that does not hold, or a figure that differs from \`report.json\`, is one
line on stderr and exit 1: dispute exactly that record. It reads each record only from the
bytes its hash covers (a line must be the three chain members followed by the canonical form;
hashes, links and the statement's digest are checked again), checks that \`report.json\` is this
bundle's (month, records, digest, configuration, key) and compares its rows with the recomputed
ones as sets. The days of a month whose records retention pruned are counted from
\`rollups.ndjson\`, whose rows must digest, day by day, to the day's newest rollup commitment in
\`inputs.ndjson\` (their p99 is then the agent's, from its HDR histogram: the highest value of the
ranked value's 3-digit bucket). A bundle it cannot read is one line on stderr and exit 2.

\`recompute.py\` here is the merchant's copy: read it first, or compare \`sha256sum recompute.py\`
with \`bundle/recompute.py\` of the published slo-agent release, before trusting what it prints.
The signed report names the script the agent shipped: \`evidence.recompute_sha256\` in
\`report.json\` must be the same digest.

## 5. The report is the one the agent signed

\`report.json\` is signed whole: \`report_signature\` is the agent's Ed25519 signature over the
RFC 8785 form of the report without that member. The numbers in the file are already in RFC 8785
form, so Python keeps their text and sorts the keys to rebuild the signed bytes:

\`\`\`sh
python3 - report.json <<'PY'
import base64, json, os, sys
class Number(str): pass          # keeps each number's text as the agent wrote it (RFC 8785 form)
def refuse(why): sys.exit("not the signed bytes: " + why)
def unique(pairs):               # a duplicate key is read one way here and another way elsewhere
    if len({k for k, _ in pairs}) != len(pairs): refuse("a duplicate key")
    return dict(pairs)
scratch = os.environ.get("TMPDIR", "/tmp")  # never the bundle: a file added to it fails verify
for stale in ("report.jcs", "report.sig"):
    if os.path.exists(os.path.join(scratch, stale)): os.remove(os.path.join(scratch, stale))
def jcs(v):
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, Number):
        return str(v)
    return json.dumps(v, ensure_ascii=False)
report = json.load(open(sys.argv[1], encoding="utf-8"), parse_float=Number, parse_int=Number,
                   object_pairs_hook=unique, parse_constant=lambda name: refuse(name))
signature = report.pop("report_signature")
if sorted(signature) != ["alg", "key_id", "value"]: refuse("report_signature has other members")
if report["evidence"].get("verified") is False: print("UNVERIFIED: the report says its evidence did not verify")
open(os.path.join(scratch, "report.sig"), "wb").write(base64.b64decode(signature["value"], validate=True))
open(os.path.join(scratch, "report.jcs"), "wb").write(jcs(report).encode("utf-8"))
print("key_id in the report:", signature["key_id"])
PY
openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in "\${TMPDIR:-/tmp}/report.jcs" -sigfile "\${TMPDIR:-/tmp}/report.sig"
sha256sum < "\${TMPDIR:-/tmp}/report.jcs"
\`\`\`

\`Signature Verified Successfully\` means no figure, credit or word of the report changed since
the agent signed it; \`sha256sum\` prints the report's digest, which its Markdown, HTML and PDF
forms and the claim letter show. \`slo-agent verify --report report.json\` does the same.

`;

/**
 * The README inside an evidence bundle: how to check it with sha256sum, openssl and Python, with
 * nothing of slo-agent's. The Python block is run by the test suite on a real bundle.
 */
export function bundleReadme(
  month: string,
  keyId: string,
  timestamp: StatementTimestamp | null = null,
  recomputable = false,
): string {
  return `# SLA evidence bundle for ${month}

Written by \`slo-agent evidence export\`. Everything here can be checked with standard tools;
\`slo-agent verify --bundle DIR\` does the same checks.

| file | holds |
| --- | --- |
| \`records.ndjson\` | the month's probe results in chain order (\`seq\`), plus the record chained right before them and every record after them up to the head the checkpoint signs |
| \`checkpoint.json\` | the agent's newest signed checkpoint: the chain head (\`head_seq\`, \`head_hash\`) and input head it commits, and its Ed25519 signature |
| \`inputs.ndjson\` | the input chain up to that input head: each configuration the agent loaded, each maintenance-feed observation, each change of whether the feed could be read (\`feed_reachability\`), each rollup commitment, each \`slo-agent import\` (\`kind: "import"\`: the file's \`file_sha256\`, and \`first_seq\`..\`last_seq\`, the records it stored, not measured by the agent), each agent run's start and clean end (\`run_start\`, \`run_end\`: when the agent was up; the time between is the report's \`unmonitored\`) |
| \`statement.json\` | what the agent states about the month, as RFC 8785 (JCS) JSON: exactly the bytes that are signed |
| \`statement.sig\` | the Ed25519 signature of \`statement.json\` (64 raw bytes) |
| \`signature.json\` | the same signature in base64 with the key id (\`${keyId}\`) and public key |
| \`public_key.pem\` | the agent's Ed25519 public key |
${timestamp ? "| `statement.tsr` | an RFC 3161 timestamp of `statement.json` by a time-stamp authority |\n" : ""}${recomputable ? RECOMPUTE_ROWS : ""}| \`SHA256SUMS\` | SHA-256 of every file above, this README included |
| \`SHA256SUMS.sig\` | the agent's Ed25519 signature of \`SHA256SUMS\` (64 raw bytes) |

## 1. Nothing was changed, dropped or added

    sha256sum -c SHA256SUMS
    openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
    ls | grep -vxF -e SHA256SUMS -e SHA256SUMS.sig | sort > "\${TMPDIR:-/tmp}/files"
    sed 's/^[0-9a-f]*  //' SHA256SUMS | sort | diff "\${TMPDIR:-/tmp}/files" -

The second prints \`Signature Verified Successfully\`; the third prints nothing when every file
in the directory is listed (a file beside the listed ones is not signed: ignore it).

## 2. The agent signed the statement

    openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in statement.json -sigfile statement.sig

This prints \`Signature Verified Successfully\`. Compare the key id (\`${keyId}\`: the first 16 hex
digits of \`openssl pkey -pubin -in public_key.pem -outform DER | sha256sum\`) with the one the
merchant published or sent before: a bundle signed by another key proves nothing.
${timestamp ? timestampSection(timestamp) : ""}
## 3. The records are the ones stated

Each line of \`records.ndjson\` is one record. Its first three members are \`seq\`, \`prev_hash\`
and \`hash\`; the rest of the line, from \`"ts"\` on, is byte for byte the record's canonical
form, the text its hash covers:

    hash = SHA-256( prev_hash + "\\n" + canonical )      (hex, UTF-8)
    canonical = "{" + line[line.index(',"ts":') + 1:]

Each record's \`prev_hash\` is the hash of the line before it. The month's digest
(\`sha256\` in the statement) is SHA-256 over the canonical forms of the records whose \`ts\`
falls in the month, sorted by their UTF-8 bytes, each followed by "\\n"; \`records\` counts
them. It covers what the records say, not the order they were chained in: the same results give
the same digest however they were imported. With standard tools:

    sed 's/^{"seq":[0-9]*,"prev_hash":"[0-9a-f]*","hash":"[0-9a-f]*",/{/' records.ndjson | grep '^{"ts":"${month}-' | LC_ALL=C sort | sha256sum

The Python below checks every hash and link, then the digest and count:

\`\`\`python
import hashlib, json
statement = json.load(open("statement.json", encoding="utf-8"))
month, canonicals, previous = statement["month"], [], None
for number, line in enumerate(open("records.ndjson", encoding="utf-8"), 1):
    line = line.rstrip("\\n")
    record = json.loads(line)
    canonical = "{" + line[line.index(',"ts":') + 1:]
    if previous is not None and record["prev_hash"] != previous:
        raise SystemExit(f"records.ndjson:{number}: not chained to the line before it")
    recomputed = hashlib.sha256((record["prev_hash"] + "\\n" + canonical).encode("utf-8")).hexdigest()
    if recomputed != record["hash"]:
        raise SystemExit(f"records.ndjson:{number}: content does not match its hash")
    if record["ts"].startswith(month + "-"):
        canonicals.append(canonical.encode("utf-8"))
    previous = recomputed
digest = hashlib.sha256(b"".join(c + b"\\n" for c in sorted(canonicals))).hexdigest()
if (len(canonicals), digest) != (statement["records"], statement["sha256"]):
    raise SystemExit("the records do not give the statement's records and sha256")
print(f"ok: {len(canonicals)} records, digest {digest}")
\`\`\`

${CHECKPOINT_SECTION}
${recomputable ? RECOMPUTE_SECTION : ""}## What this proves, and what it does not

The signature proves that the holder of the agent's key stated these records and this digest,
and that nothing changed since. It does not prove the measurements are true: whoever runs the
agent holds the key and could sign anything. What makes the evidence strong is that the merchant
published or sent the statement (or its digest) at the time: a month rewritten later no longer
matches it. \`config_sha256\` is the SHA-256 of the agent's configuration (secrets removed) that
the report was computed with.${
    timestamp
      ? " The timestamp proves the statement existed at the TSA's time, as far as the TSA is trusted."
      : ""
  }
`;
}
