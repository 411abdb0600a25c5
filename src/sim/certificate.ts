import { webcrypto } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

const DAY_MS = 86_400_000;

/** The DOM `Crypto` pkijs is typed with: Node's webcrypto is one. */
type WebCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]["crypto"];
const crypto = webcrypto;

/** A certificate and its key, PEM. */
export interface SimulatorCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * A self-signed certificate for the simulator's TLS listener, made at start (ECDSA P-256, pkijs on
 * WebCrypto: no openssl binary, no download): its own CA, valid from an hour ago for `days` days,
 * naming `localhost` and 127.0.0.1. Trusting it (a tls probe's ca_file) gives a valid chain.
 */
export async function selfSignedCertificate(now: number, days = 90): Promise<SimulatorCertificate> {
  const engine = new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as WebCrypto });
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({
    valueHex: serialOf(crypto.getRandomValues(new Uint8Array(8))).buffer,
  });
  const name = new pkijs.AttributeTypeAndValue({
    type: "2.5.4.3", // commonName
    value: new asn1js.Utf8String({ value: "slo-agent simulator" }),
  });
  cert.subject.typesAndValues.push(name);
  cert.issuer.typesAndValues.push(name);
  cert.notBefore.value = new Date(now - DAY_MS / 24);
  cert.notAfter.value = new Date(now + days * DAY_MS);
  const constraints = new pkijs.BasicConstraints({ cA: true });
  const names = new pkijs.AltName({
    altNames: [
      new pkijs.GeneralName({ type: 2, value: "localhost" }), // dNSName
      new pkijs.GeneralName({
        type: 7, // iPAddress
        value: new asn1js.OctetString({ valueHex: new Uint8Array([127, 0, 0, 1]).buffer }),
      }),
    ],
  });
  cert.extensions = [
    extension("2.5.29.19", constraints.toSchema(), true), // basicConstraints
    extension("2.5.29.17", names.toSchema(), false), // subjectAltName
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  await cert.sign(keys.privateKey, "SHA-256", engine);
  const der = cert.toSchema(true).toBER(false);
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: pem("CERTIFICATE", der), keyPem: pem("PRIVATE KEY", pkcs8) };
}

/**
 * A certificate serial from random bytes: a positive INTEGER in minimal DER. The first byte is kept
 * in 0x40-0x7f: a cleared top bit alone left 1 in 256 serials starting 0x00 0x00-0x7f, a leading
 * zero DER forbids, which OpenSSL refused ("illegal padding") and failed the simulator's start.
 */
export function serialOf(random: Uint8Array): Uint8Array<ArrayBuffer> {
  const serial = Uint8Array.from(random);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}

function extension(extnID: string, value: asn1js.AsnType, critical: boolean): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

function pem(label: string, der: ArrayBuffer): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
