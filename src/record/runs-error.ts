/**
 * A pruned day's rollups that a crashed run's end would be read from do not match their rollup
 * commitment: altered evidence, so no run (and no `unmonitored[]`) can be worked out from them.
 * On its own, without imports, so that the CLI can map it to exit 1 without loading the store.
 */
export class RollupsDisagreeError extends Error {
  constructor(detail: string) {
    super(`the agent's runs cannot be worked out: ${detail}`);
    this.name = "RollupsDisagreeError";
  }
}
