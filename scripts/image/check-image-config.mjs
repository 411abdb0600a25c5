// Checks a built image's configuration (`buildah inspect --type image` JSON) against what
// docs/deployment.md promises: non-root, /data volume, port 9464, a curl-free HEALTHCHECK on
// /healthz, SIGTERM as the stop signal, `run` as the default command, and OCI labels.
//
//   node scripts/image/check-image-config.mjs IMAGE.json VERSION
import { readFileSync } from "node:fs";

const [file, version] = process.argv.slice(2);
const image = JSON.parse(readFileSync(file, "utf8"));
const oci = image.OCIv1?.config ?? {};
const docker = image.Docker?.config ?? {};
const labels = oci.Labels ?? {};
const healthcheck = docker.Healthcheck?.Test ?? [];

const checks = [
  ["runs as uid 1000, not root", oci.User === "1000:1000"],
  ["declares the /data volume", Object.hasOwn(oci.Volumes ?? {}, "/data")],
  ["exposes 9464/tcp", Object.hasOwn(oci.ExposedPorts ?? {}, "9464/tcp")],
  ["stops with SIGTERM", oci.StopSignal === "SIGTERM"],
  [
    "enters through the CLI",
    JSON.stringify(oci.Entrypoint) === '["node","--optimize-for-size","/app/dist/cli/main.js"]',
  ],
  [
    "runs `run` on /data by default",
    oci.Cmd?.[0] === "run" && oci.Cmd.join(" ").includes("--data-dir /data"),
  ],
  [
    "has a HEALTHCHECK on /healthz with node, not curl",
    healthcheck[0] === "CMD" && healthcheck[1] === "node" && healthcheck.join(" ").includes("/healthz"),
  ],
  ["is labelled org.opencontainers.image.version", labels["org.opencontainers.image.version"] === version],
  ...["title", "description", "licenses", "revision", "created", "base.name"].map((key) => [
    `is labelled org.opencontainers.image.${key}`,
    typeof labels[`org.opencontainers.image.${key}`] === "string" &&
      labels[`org.opencontainers.image.${key}`] !== "",
  ]),
];
const failed = checks.filter(([, ok]) => !ok);
for (const [what, ok] of checks) console.log(`image config: ${ok ? "ok" : "FAILED"}: ${what}`);
process.exit(failed.length === 0 ? 0 : 1);
