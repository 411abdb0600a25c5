import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A root CA, an intermediate it signed, and leaves for localhost the intermediate signed. */
export interface Pki {
  /** PEM file of the root: what a client trusts. */
  readonly rootFile: string;
  readonly intermediate: string;
  /** A leaf valid for `days` days (its key and certificate, PEM). */
  leaf(days: number): { readonly key: string; readonly cert: string };
  remove(): void;
}

/** Made with the openssl command line, as an operator would make a private CA. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "slo-pki-"));
  const at = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const caExt = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
  writeFileSync(at("ca.ext"), caExt);
  writeFileSync(at("leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    at("root.key"),
    "-out",
    at("root.pem"),
    "-days",
    "30",
    "-subj",
    "/CN=slo test root",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  ssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    at("int.key"),
    "-out",
    at("int.csr"),
    "-subj",
    "/CN=slo test intermediate",
  );
  ssl(
    "x509",
    "-req",
    "-in",
    at("int.csr"),
    "-CA",
    at("root.pem"),
    "-CAkey",
    at("root.key"),
    "-CAcreateserial",
    "-out",
    at("int.pem"),
    "-days",
    "30",
    "-extfile",
    at("ca.ext"),
  );
  let n = 0;
  return {
    rootFile: at("root.pem"),
    intermediate: readFileSync(at("int.pem"), "utf8"),
    leaf(days) {
      const name = `leaf${n++}`;
      ssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        at(`${name}.key`),
        "-out",
        at(`${name}.csr`),
        "-subj",
        "/CN=localhost",
      );
      ssl(
        "x509",
        "-req",
        "-in",
        at(`${name}.csr`),
        "-CA",
        at("int.pem"),
        "-CAkey",
        at("int.key"),
        "-CAcreateserial",
        "-out",
        at(`${name}.pem`),
        "-days",
        String(days),
        "-extfile",
        at("leaf.ext"),
      );
      return { key: readFileSync(at(`${name}.key`), "utf8"), cert: readFileSync(at(`${name}.pem`), "utf8") };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
