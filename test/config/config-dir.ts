import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A small valid slo.yaml; `targets` and `probes` blocks can be swapped in by the test. */
export function minimalSlo(parts: { targets?: string; probes?: string; extra?: string } = {}): string {
  const targets =
    parts.targets ??
    `targets:
  klarna:
    base_url: https://api.playground.klarna.com/
    environment: playground
`;
  const probes =
    parts.probes ??
    `probes:
  - {id: payment-request-read, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/0}
`;
  return `version: 1
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
${targets}${probes}${parts.extra ?? ""}`;
}

/** Temporary directories holding real configuration files; remove() deletes them all. */
export class ConfigDirs {
  readonly #dirs: string[] = [];

  async create(files: Readonly<Record<string, string>>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "slo-config-"));
    this.#dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  }

  async remove(): Promise<void> {
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
