// Preloaded with `node --import`: appends to $RUNTIME_USE_FILE what the process made Node.js load
// that costs memory for the life of the process: each way it reached ICU (the node binary's locale
// data) through the JavaScript APIs that load it, with the caller, and at exit the copy of undici
// Node.js bundles for its own fetch, if it was loaded.
import { appendFileSync } from "node:fs";

const file = process.env.RUNTIME_USE_FILE;
function trap(owner, name, label) {
  const original = owner[name];
  owner[name] = function (...args) {
    const caller = new Error().stack.split("\n").slice(2, 4).join(" <- ").trim();
    appendFileSync(file, `${label} at ${caller}\n`);
    return new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
  };
}
for (const name of [
  "DateTimeFormat",
  "NumberFormat",
  "Collator",
  "PluralRules",
  "RelativeTimeFormat",
  "Segmenter",
])
  trap(Intl, name, `Intl.${name}`);
trap(String.prototype, "localeCompare", "String.prototype.localeCompare");
trap(Number.prototype, "toLocaleString", "Number.prototype.toLocaleString");
trap(Date.prototype, "toLocaleString", "Date.prototype.toLocaleString");

process.on("exit", () => {
  for (const loaded of process.moduleLoadList)
    if (loaded.includes("internal/deps/undici")) appendFileSync(file, `Node.js's own undici (${loaded})\n`);
});
