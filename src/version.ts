import { readFileSync } from "node:fs";

/** The package's version (package.json sits beside src/ and dist/). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export const AGENT_VERSION = packageVersion();
