import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "../..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** The image is named by the release version everywhere it is built or deployed. */
describe("the image is named by the release version (package.json)", () => {
  it("the Dockerfile labels it with that version unless told otherwise", () => {
    expect(read("Dockerfile")).toMatch(new RegExp(`^ARG VERSION=${VERSION.replaceAll(".", "\\.")}$`, "m"));
  });

  it("compose, the kustomize base and the sidecar overlay name that tag", () => {
    const compose = parse(read("deploy/compose/compose.yaml")) as {
      services: { "slo-agent": { image: string } };
    };
    expect(compose.services["slo-agent"].image).toBe(`slo-agent:${VERSION}`);
    for (const file of [
      "deploy/kubernetes/base/kustomization.yaml",
      "deploy/kubernetes/sidecar/kustomization.yaml",
    ]) {
      const images = (parse(read(file)) as { images: { name: string; newTag: string }[] }).images;
      expect(images, file).toEqual([{ name: "slo-agent", newTag: VERSION }]);
    }
  });

  it("CI builds and checks the image under that name and label", () => {
    const script = read("scripts/image/ci-image.sh");
    expect(script).toMatch(/^version=\$\(node -p 'require\("\.\/package\.json"\)\.version'\)$/m);
    expect(script).toMatch(/^image=localhost\/slo-agent:\$version\b/m);
  });

  it("no document or manifest names a registry as if it were real", () => {
    for (const file of ["README.md", "docs/deployment.md", "deploy/compose/compose.yaml"]) {
      expect(read(file), file).not.toMatch(/registry\.example\.com/);
    }
  });
});
