// Preloaded with `node --import`: appends to $ICU_USE_FILE each way the process reaches ICU (the
// node binary's locale data) through the JavaScript APIs that load it, with the caller.
import { appendFileSync } from "node:fs";

const file = process.env.ICU_USE_FILE;
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
