// biome-ignore-all lint/suspicious/noTemplateCurlyInString: it writes ${NAME} references into slo.yaml.
// Regenerates what deploy/kubernetes/base builds from the repository's own files, so that nothing there
// is an inline copy that drifts: config/slo.yaml (the shipped slo.yaml with credentials read from
// the mounted Secret's files and the region from the environment), config/probes/*.yaml (the
// shipped probes, as they are) and prometheusrule.yaml (`slo-agent rules --format
// prometheus-operator`). kustomize reads files only from inside the kustomization's directory,
// hence the copies; test/deploy/kubernetes.test.ts fails when one differs from what this writes.
// Usage: npx tsx scripts/gen-kubernetes-config.ts
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadConfig } from "../src/config/index.js";
import { renderPrometheusRule } from "../src/export/rules.js";

export const REPO = join(import.meta.dirname, "..");
export const KUBERNETES = join(REPO, "deploy/kubernetes/base");
/** Where the Secret the user creates is mounted (keys `username` and `password`). */
export const CREDENTIALS_DIR = "/var/run/secrets/slo-agent";

const FROM_ENVIRONMENT = 'username: "${KLARNA_USERNAME:-}", password: "${KLARNA_PASSWORD:-}"';
const FROM_FILES = `username_file: ${CREDENTIALS_DIR}/username, password_file: ${CREDENTIALS_DIR}/password`;

/** The Kubernetes slo.yaml: the shipped one, credentials from files, region from SLO_AGENT_REGION. */
export function kubernetesSloYaml(shipped: string): string {
  const header = [
    "# GENERATED from the repository's slo.yaml by scripts/gen-kubernetes-config.ts: edit that file",
    "# (or override this one in your overlay's configMapGenerator), then regenerate.",
    `# Credentials are read from the files of the Secret mounted at ${CREDENTIALS_DIR}.`,
    "",
  ].join("\n");
  const body = shipped
    .replaceAll(FROM_ENVIRONMENT, FROM_FILES)
    .replace(/^ {2}region: eu(\s)/m, '  region: "${SLO_AGENT_REGION:-eu}"$1');
  if (!body.includes(FROM_FILES) || body.includes("${KLARNA_PASSWORD")) {
    throw new Error("slo.yaml: the targets' credentials are not written as expected; update this script");
  }
  return header + body;
}

/** Every file this script writes, by path relative to deploy/kubernetes/base, with its content. */
export async function generatedFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set("config/slo.yaml", kubernetesSloYaml(await readFile(join(REPO, "slo.yaml"), "utf8")));
  for (const name of (await readdir(join(REPO, "probes"))).filter((n) => n.endsWith(".yaml")).sort()) {
    files.set(`config/probes/${name}`, await readFile(join(REPO, "probes", name), "utf8"));
  }
  return files;
}

/** The PrometheusRule for the generated slo.yaml (written after it: it is loaded from disk). */
export async function prometheusRule(): Promise<string> {
  const { config } = await loadConfig(join(KUBERNETES, "config/slo.yaml"), { env: {}, probing: false });
  return renderPrometheusRule(config);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  for (const [path, text] of await generatedFiles()) {
    await mkdir(join(KUBERNETES, path, ".."), { recursive: true });
    await writeFile(join(KUBERNETES, path), text);
  }
  await writeFile(join(KUBERNETES, "prometheusrule.yaml"), await prometheusRule());
  console.log("deploy/kubernetes/base: config/ and prometheusrule.yaml regenerated");
}
