import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCliSync } from "../support/cli.js";

const ROOT = join(import.meta.dirname, "../..");
const MANIFESTS = join(ROOT, "deploy/kubernetes");
const scratch = mkdtempSync(join(tmpdir(), "slo-k8s-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Only the fields the assertions read; the manifests are checked, not modelled.
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  envFrom?: { secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: each kind's spec is read through the typed views below
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function loadManifests(): { file: string; doc: Manifest }[] {
  const files = readdirSync(MANIFESTS).filter((f) => /\.ya?ml$/.test(f));
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(MANIFESTS, file), "utf8")).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return { file, doc: doc.toJS() as Manifest };
    }),
  );
}

const manifests = loadManifests();
function only(kind: string): Manifest {
  const found = manifests.filter((m) => m.doc.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return (found[0] as { doc: Manifest }).doc;
}
const deployment = only("Deployment");
const pod = deployment.spec.template as {
  metadata: { annotations: Record<string, string> };
  spec: {
    securityContext?: { runAsNonRoot?: boolean };
    containers: Container[];
    readinessGates?: unknown[];
    volumes: Volume[];
  };
};
const agent = pod.spec.containers.find((c) => c.name === "slo-agent") as Container;
const volumeAt = (mountPath: string): Volume => {
  const mount = agent.volumeMounts?.find((m) => m.mountPath === mountPath);
  expect(mount, `a volume mounted at ${mountPath}`).toBeDefined();
  return pod.spec.volumes.find((v) => v.name === mount?.name) as Volume;
};
const metricsPort = agent.ports?.find((p) => p.containerPort === 9464);

describe("deploy/kubernetes manifests", () => {
  it("parse, and each names its apiVersion, kind and name", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of manifests) {
      expect(doc.apiVersion, file).toMatch(/^[a-z0-9./]+$/);
      expect(doc.kind, file).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(doc.metadata?.name, file).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it("run the agent beside an app container, from the Secret, on port 9464", () => {
    expect(agent).toBeDefined();
    expect(pod.spec.containers.length).toBeGreaterThanOrEqual(2);
    expect(agent.args?.slice(0, 1)).toEqual(["run"]);
    expect(agent.envFrom?.map((e) => e.secretRef?.name)).toContain(only("Secret").metadata.name);
    expect(metricsPort?.name).toBeDefined();
  });

  it("probe the agent's liveness on /healthz and never its readiness (the app stays in service)", () => {
    expect(agent.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect([metricsPort?.name, 9464]).toContain(agent.livenessProbe?.httpGet?.port);
    expect(agent.readinessProbe).toBeUndefined();
    expect(agent.startupProbe).toBeUndefined();
    expect(pod.spec.readinessGates).toBeUndefined();
    // The app's readiness, if any, is its own: it never looks at the agent's port.
    for (const c of pod.spec.containers.filter((c) => c !== agent)) {
      expect([metricsPort?.name, 9464]).not.toContain(c.readinessProbe?.httpGet?.port);
    }
  });

  it("lock every container down: read-only root, non-root, no escalation, no capabilities", () => {
    for (const c of pod.spec.containers) {
      expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
      expect(c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot, c.name).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
      expect(c.securityContext?.capabilities?.drop, c.name).toContain("ALL");
    }
  });

  it("keep the evidence on the PVC, /tmp on an emptyDir and the config from the ConfigMap", () => {
    expect(agent.args).toEqual(expect.arrayContaining(["--data-dir", "/data"]));
    expect(volumeAt("/data").persistentVolumeClaim?.claimName).toBe(
      only("PersistentVolumeClaim").metadata.name,
    );
    expect(volumeAt("/tmp").emptyDir).toBeDefined();
    expect(volumeAt("/etc/slo-agent").configMap?.name).toBe(only("ConfigMap").metadata.name);
    const config = agent.args?.[(agent.args?.indexOf("--config") ?? -2) + 1];
    expect(config).toBe("/etc/slo-agent/slo.yaml");
  });

  it("are scraped: prometheus.io annotations and a ServiceMonitor on the agent's port", () => {
    const annotations = pod.metadata.annotations;
    expect(annotations["prometheus.io/scrape"]).toBe("true");
    expect(annotations["prometheus.io/port"]).toBe("9464");
    expect(annotations["prometheus.io/path"]).toBe("/metrics");

    const monitor = manifests.find((m) => m.doc.kind === "ServiceMonitor")?.doc as Manifest;
    expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
    const service = only("Service");
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)) {
      expect(service.metadata.labels?.[k], `Service label ${k}`).toBe(v);
    }
    const endpoint = (monitor.spec.endpoints as { port: string; path: string }[])[0];
    expect(endpoint?.path).toBe("/metrics");
    const servicePort = (service.spec.ports as { name: string; targetPort: string | number }[]).find(
      (p) => p.name === endpoint?.port,
    );
    expect([metricsPort?.name, 9464]).toContain(servicePort?.targetPort);
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) {
      expect(deployment.spec.template.metadata.labels[k], `pod label ${k}`).toBe(v);
    }
  });

  it("hold a ConfigMap whose slo.yaml passes the real check-config, with the Secret's variables", () => {
    const configMap = only("ConfigMap");
    // Lay the files out as the Deployment's configMap items mount them.
    const root = join(scratch, "etc-slo-agent");
    for (const item of volumeAt("/etc/slo-agent").configMap?.items ?? []) {
      mkdirSync(dirname(join(root, item.path)), { recursive: true });
      writeFileSync(join(root, item.path), configMap.data?.[item.key] ?? "");
    }
    const secretEnv = only("Secret").stringData ?? {};
    const check = (env: Record<string, string>) =>
      runCliSync(["check-config", "--config", join(root, "slo.yaml")], {
        env: { PATH: process.env.PATH ?? "", ...env },
        timeoutMs: 60_000,
      });
    const ok = check(secretEnv);
    expect(`${ok.stdout}${ok.stderr}`).toMatch(/ok: 13 categories, 3 service classes, 13 probes/);
    expect(ok.code).toBe(0);
    // Without the Secret the credentials are missing, and check-config says so: the Secret is what supplies them.
    const bare = check({});
    expect(bare.stderr).toMatch(/KLARNA_USERNAME is not set/);
    expect(bare.code).toBe(2);
    expect(configMap.data?.["slo.yaml"]).toMatch(/^\s+data_dir: \/data\b/m);
    expect(configMap.data?.["slo.yaml"]).toMatch(/^\s+listen: 0\.0\.0\.0:9464\b/m);
  });
});
