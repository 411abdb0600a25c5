import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A real RFC 3161 TSA made with openssl in a directory: its own CA, a TSA certificate that CA
 * issued (extendedKeyUsage critical,timeStamping) and an `openssl ts -reply` configuration.
 */
export interface TestTsa {
  readonly dir: string;
  /** The CA certificate (PEM file): what a verifier pins. */
  readonly caPem: string;
  /** Signs a DER TimeStampReq with `openssl ts -reply`; returns the DER TimeStampResp. */
  stamp(query: Buffer): Buffer;
}

export function makeTestTsa(parent: string, name: string): TestTsa {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  const ssl = (args: readonly string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  ssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-subj",
      `/CN=${name} CA`,
      "-days",
      "2",
    ].concat(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]),
  );
  ssl(["req", "-new", ...ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", `/CN=${name}`]);
  writeFileSync(join(dir, "tsa.ext"), "extendedKeyUsage=critical,timeStamping\nbasicConstraints=CA:FALSE\n");
  ssl(
    ["x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
      "-out",
      "tsa.pem",
      "-days",
      "2",
      "-extfile",
      "tsa.ext",
    ]),
  );
  writeFileSync(join(dir, "serial"), "01\n");
  writeFileSync(
    join(dir, "tsa.cnf"),
    `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = ${dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
  );
  let n = 0;
  return {
    dir,
    caPem: join(dir, "ca.pem"),
    stamp(query: Buffer): Buffer {
      n += 1;
      writeFileSync(join(dir, `q${n}.tsq`), query);
      ssl(["ts", "-reply", "-config", "tsa.cnf", "-queryfile", `q${n}.tsq`, "-out", `r${n}.tsr`]);
      return readFileSync(join(dir, `r${n}.tsr`));
    },
  };
}
