// Regenerates the key reference in docs/configuration.md from the wire schema.
// Usage: npx tsx scripts/gen-config-reference.ts
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withCurrentReference } from "../src/config/reference.js";

const DOC = join(import.meta.dirname, "../docs/configuration.md");

const before = await readFile(DOC, "utf8");
const after = withCurrentReference(before);
if (after === before) {
  console.log("docs/configuration.md: reference is up to date");
} else {
  await writeFile(DOC, after);
  console.log("docs/configuration.md: reference regenerated");
}
