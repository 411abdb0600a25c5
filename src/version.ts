import { readFileSync } from "node:fs";
import { packagePath } from "./package-root.js";

/** The package's version (package.json at the package root). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export const AGENT_VERSION = packageVersion();
