import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import {
  KUBERNETES as BASE,
  CREDENTIALS_DIR,
  generatedFiles,
  prometheusRule,
} from "../../scripts/gen-kubernetes-config.js";
import { configSha256 } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/index.js";

const ROOT = join(import.meta.dirname, "../..");
const DEPLOY = join(ROOT, "deploy/kubernetes");
const CLI = join(ROOT, "dist/cli/main.js");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), "slo-k8s-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Only the fields the assertions read; the schemas check the rest.
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  startupProbe?: unknown;
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
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
}
interface PodSpec {
  containers: Container[];
  volumes: Volume[];
  securityContext?: { runAsNonRoot?: boolean };
  readinessGates?: unknown[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: each kind's spec is read through the typed views below
  spec?: any;
  data?: Record<string, string>;
}

/** `kubectl kustomize DIR`: what `kubectl apply -k DIR` would send, built without a cluster. */
function build(dir: string): Manifest[] {
  const run = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 60_000 });
  if (run.error) throw new Error(`kubectl is needed to build deploy/kubernetes: ${run.error.message}`);
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return parseAllDocuments(run.stdout).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Manifest;
  });
}

/** The Kubernetes (and Prometheus Operator) model of each object's apiVersion and kind. */
async function modelOf(m: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const module =
    m.apiVersion === "monitoring.coreos.com/v1"
      ? await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1")
      : m.apiVersion === "v1"
        ? await import("kubernetes-models/v1")
        : m.apiVersion === "apps/v1"
          ? await import("kubernetes-models/apps/v1")
          : m.apiVersion === "networking.k8s.io/v1"
            ? await import("kubernetes-models/networking.k8s.io/v1")
            : null;
  const model = (module as Record<string, unknown> | null)?.[m.kind];
  if (typeof model !== "function") throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  return model as new (
    data: unknown,
  ) => { validate(): void };
}

const builds = {
  recommended: build(DEPLOY),
  base: build(BASE),
  sidecar: build(join(DEPLOY, "sidecar")),
};
const only = (objects: Manifest[], kind: string): Manifest => {
  const found = objects.filter((m) => m.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0] as Manifest;
};
const agentOf = (pod: PodSpec) => pod.containers.find((c) => c.name === "slo-agent") as Container;
const volumeAt = (pod: PodSpec, mountPath: string): Volume => {
  const mount = agentOf(pod).volumeMounts?.find((m) => m.mountPath === mountPath);
  expect(mount, `a volume mounted at ${mountPath}`).toBeDefined();
  return pod.volumes.find((v) => v.name === mount?.name) as Volume;
};

const recommendedPod = only(builds.recommended, "StatefulSet").spec.template.spec as PodSpec;
const sidecarPod = only(builds.sidecar, "Deployment").spec.template.spec as PodSpec;

describe("deploy/kubernetes builds with kubectl kustomize, and every object is valid", () => {
  it.each(Object.entries(builds))("%s: each object passes its Kubernetes schema", async (_name, objects) => {
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const m of objects) {
      const Model = await modelOf(m);
      expect(() => new Model(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
  });

  it("the schema check can fail: a port given as text is refused", async () => {
    const broken = structuredClone(only(builds.base, "StatefulSet"));
    broken.spec.template.spec.containers[0].ports[0].containerPort = "9464";
    const Model = await modelOf(broken);
    expect(() => new Model(broken).validate()).toThrow(/containerPort must be integer/);
  });

  it("deploy/kubernetes is the base: the recommended shape", () => {
    expect(builds.recommended).toEqual(builds.base);
  });
});

describe("credentials: a Secret the user creates, read as files", () => {
  it.each(Object.entries(builds))(
    "%s: applies no Secret and no placeholder over the user's",
    (_n, objects) => {
      expect(objects.filter((m) => m.kind === "Secret")).toEqual([]);
      expect(JSON.stringify(objects)).not.toMatch(/replace-me|changeme|registry\.example\.com/i);
    },
  );

  it.each([
    ["recommended", recommendedPod],
    ["sidecar", sidecarPod],
  ])("%s: mounts the Secret read-only as files, never as environment variables", (_n, pod) => {
    const agent = agentOf(pod);
    expect(agent.envFrom).toBeUndefined();
    for (const e of agent.env ?? []) expect(e.name).not.toMatch(/USERNAME|PASSWORD|TOKEN|SECRET/);
    const credentials = volumeAt(pod, CREDENTIALS_DIR);
    expect(credentials.secret?.secretName).toBe("slo-agent-credentials");
    expect(agent.volumeMounts?.find((m) => m.mountPath === CREDENTIALS_DIR)?.readOnly).toBe(true);
  });

  it("the configuration reads every target's credentials from that Secret's files", () => {
    const slo = parse(readFileSync(join(BASE, "config/slo.yaml"), "utf8")) as {
      targets: Record<string, { auth: Record<string, string> }>;
    };
    for (const [id, target] of Object.entries(slo.targets)) {
      expect(target.auth, id).toEqual({
        type: "basic",
        username_file: `${CREDENTIALS_DIR}/username`,
        password_file: `${CREDENTIALS_DIR}/password`,
      });
    }
  });
});

describe("the configuration comes from the repository's files", () => {
  it("config/ and prometheusrule.yaml are what scripts/gen-kubernetes-config.ts writes (UPDATE_GOLDEN=1 rewrites)", async () => {
    const expected = await generatedFiles();
    for (const [path, text] of expected) {
      if (UPDATE) {
        mkdirSync(dirname(join(BASE, path)), { recursive: true });
        writeFileSync(join(BASE, path), text);
      }
      expect(readFileSync(join(BASE, path), "utf8"), path).toBe(text);
    }
    const rule = await prometheusRule();
    if (UPDATE) writeFileSync(join(BASE, "prometheusrule.yaml"), rule);
    expect(readFileSync(join(BASE, "prometheusrule.yaml"), "utf8")).toBe(rule);
  });

  it("its effective configuration is the shipped slo.yaml's (only where credentials come from differs)", async () => {
    const shipped = await loadConfig(join(ROOT, "slo.yaml"), { env: {}, probing: false });
    const kubernetes = await loadConfig(join(BASE, "config/slo.yaml"), { env: {}, probing: false });
    expect(configSha256(kubernetes.config)).toBe(configSha256(shipped.config));
  });

  it.each([
    ["recommended", recommendedPod, builds.recommended],
    ["sidecar", sidecarPod, builds.sidecar],
  ])(
    "%s: the ConfigMap holds every file, each mounted where slo.yaml looks, and check-config passes with the Secret's files",
    (name, pod, objects) => {
      const configMap = only(objects, "ConfigMap");
      const volume = volumeAt(pod, "/etc/slo-agent");
      expect(volume.configMap?.name).toBe(configMap.metadata.name);
      const items = volume.configMap?.items ?? [];
      expect(items.map((i) => i.key).sort()).toEqual(Object.keys(configMap.data ?? {}).sort());
      const root = join(scratch, name, "etc-slo-agent");
      const secrets = join(scratch, name, "secrets");
      for (const item of items) {
        mkdirSync(dirname(join(root, item.path)), { recursive: true });
        const text = configMap.data?.[item.key] ?? "";
        writeFileSync(join(root, item.path), text.replaceAll(CREDENTIALS_DIR, secrets));
      }
      const check = () =>
        spawnSync(process.execPath, [CLI, "check-config", "--config", join(root, "slo.yaml")], {
          encoding: "utf8",
          env: { PATH: process.env.PATH ?? "" },
          timeout: 60_000,
        });
      // Without the Secret, check-config says which files are missing (the pod would not start either).
      const bare = check();
      expect(bare.stderr).toMatch(/password_file: secret file .*file not found/);
      expect(bare.status).toBe(2);
      mkdirSync(secrets, { recursive: true });
      writeFileSync(join(secrets, "username"), "merchant-user\n");
      writeFileSync(join(secrets, "password"), "merchant-password\n");
      const ok = check();
      expect(ok.stdout).toMatch(/ok: 13 categories, 3 service classes, \d+ probes/);
      expect(ok.stderr).not.toMatch(/merchant-(user|password)/);
      expect(ok.status).toBe(0);
    },
  );

  it("the PrometheusRule is what `slo-agent rules --format prometheus-operator` prints, with the rule file's groups", () => {
    const run = spawnSync(
      process.execPath,
      [CLI, "rules", "--format", "prometheus-operator", "--config", join(BASE, "config/slo.yaml")],
      { encoding: "utf8", env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(readFileSync(join(BASE, "prometheusrule.yaml"), "utf8"));
    const resource = parse(run.stdout) as Manifest;
    expect(resource.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(resource.kind).toBe("PrometheusRule");
    const ruleFile = parse(readFileSync(join(ROOT, "test/rules/fixtures/slo-rules.golden.yml"), "utf8"));
    expect(resource.spec.groups).toEqual(ruleFile.groups);
    expect(only(builds.base, "PrometheusRule").spec.groups).toEqual(ruleFile.groups);
  });
});

describe("the recommended shape: one agent per region, the app untouched", () => {
  it("is a StatefulSet of one replica with its own evidence volume, and no app Deployment", () => {
    const set = only(builds.base, "StatefulSet");
    expect(set.spec.replicas).toBe(1);
    expect(builds.base.filter((m) => m.kind === "Deployment")).toEqual([]);
    const claim = (
      set.spec.volumeClaimTemplates as { metadata: { name: string }; spec: { accessModes: string[] } }[]
    )[0];
    expect(claim?.spec.accessModes).toEqual(["ReadWriteOnce"]);
    const agent = agentOf(recommendedPod);
    expect(agent.volumeMounts?.find((m) => m.mountPath === "/data")?.name).toBe(claim?.metadata.name);
    expect(recommendedPod.containers).toHaveLength(1);
  });

  it("the sidecar runs in a canary Deployment of its own: one replica, Recreate, its own PVC", () => {
    expect(builds.sidecar.filter((m) => m.kind === "StatefulSet")).toEqual([]);
    const canary = only(builds.sidecar, "Deployment");
    expect(canary.spec.replicas).toBe(1);
    expect(canary.spec.strategy.type).toBe("Recreate");
    expect(volumeAt(sidecarPod, "/data").persistentVolumeClaim?.claimName).toBe(
      only(builds.sidecar, "PersistentVolumeClaim").metadata.name,
    );
    expect(sidecarPod.containers.length).toBeGreaterThanOrEqual(2);
    // The agent's Service follows the agent into the canary pod.
    const selector = only(builds.sidecar, "Service").spec.selector as Record<string, string>;
    for (const [k, v] of Object.entries(selector)) expect(canary.spec.template.metadata.labels[k]).toBe(v);
  });

  it.each([
    ["recommended", recommendedPod],
    ["sidecar", sidecarPod],
  ])("%s: the image is named by the release version, and logs are JSON", (_n, pod) => {
    const agent = agentOf(pod);
    expect(agent.image).toBe(`slo-agent:${VERSION}`);
    expect(agent.args).toEqual(expect.arrayContaining(["--log-format", "json"]));
    expect(agent.args?.slice(0, 1)).toEqual(["run"]);
    expect(agent.args).toEqual(expect.arrayContaining(["--config", "/etc/slo-agent/slo.yaml"]));
    expect(agent.args).toEqual(expect.arrayContaining(["--data-dir", "/data"]));
    expect(volumeAt(pod, "/tmp").emptyDir).toBeDefined();
  });

  it.each([
    ["recommended", recommendedPod],
    ["sidecar", sidecarPod],
  ])("%s: liveness on /healthz, never readiness; every container locked down", (_n, pod) => {
    const agent = agentOf(pod);
    const metrics = agent.ports?.find((p) => p.containerPort === 9464);
    expect(agent.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect([metrics?.name, 9464]).toContain(agent.livenessProbe?.httpGet?.port);
    expect(agent.readinessProbe).toBeUndefined();
    expect(agent.startupProbe).toBeUndefined();
    expect(pod.readinessGates).toBeUndefined();
    for (const c of pod.containers) {
      expect([metrics?.name, 9464], c.name).not.toContain(c.readinessProbe?.httpGet?.port ?? "none");
      expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true);
      expect(c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, c.name).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
      expect(c.securityContext?.capabilities?.drop, c.name).toContain("ALL");
    }
  });

  it("a NetworkPolicy selects the agent's pod: in only to 9464, out only DNS and HTTPS", () => {
    const policy = only(builds.base, "NetworkPolicy");
    const podLabels = only(builds.base, "StatefulSet").spec.template.metadata.labels as Record<
      string,
      string
    >;
    for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels as Record<string, string>)) {
      expect(podLabels[k]).toBe(v);
    }
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const ingressPorts = (policy.spec.ingress as { ports: { port: number }[] }[]).flatMap((r) => r.ports);
    expect(ingressPorts.map((p) => p.port)).toEqual([9464]);
    const egressPorts = (policy.spec.egress as { ports: { port: number }[] }[]).flatMap((r) => r.ports);
    expect([...new Set(egressPorts.map((p) => p.port))].sort()).toEqual([443, 53]);
  });

  it("is scraped: prometheus.io annotations and a ServiceMonitor on the agent's Service port", () => {
    for (const [objects, kind] of [
      [builds.base, "StatefulSet"],
      [builds.sidecar, "Deployment"],
    ] as const) {
      const workload = only(objects, kind);
      expect(workload.spec.template.metadata.annotations["prometheus.io/port"]).toBe("9464");
      const monitor = only(objects, "ServiceMonitor");
      const service = only(objects, "Service");
      for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)) {
        expect(service.metadata.labels?.[k], `Service label ${k}`).toBe(v);
      }
      const endpoint = (monitor.spec.endpoints as { port: string; path: string }[])[0];
      expect(endpoint?.path).toBe("/metrics");
      const port = (service.spec.ports as { name: string; targetPort: string }[]).find(
        (p) => p.name === endpoint?.port,
      );
      const agent = agentOf(workload.spec.template.spec as PodSpec);
      expect(agent.ports?.find((p) => p.name === port?.targetPort)?.containerPort).toBe(9464);
    }
  });
});
