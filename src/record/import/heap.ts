import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * V8's full garbage collection, which Node exposes only under --expose-gc. A long import makes
 * garbage fast: left to its heuristics V8 lets the old generation grow by some 100 MB before it
 * collects, which alone broke the import's 200 MB bound. Collecting every few hundred thousand
 * records costs a few milliseconds each (little survives) and keeps the peak flat.
 */
export function fullCollection(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
