/**
 * The scenario in force: the one loaded (or PUT) plus live per-category overlays from PATCH, so
 * that a test can script an outage and clear it again without losing the scenario underneath.
 */
import type { SimCategory } from "./routes.js";
import { type Faults, faultsFor, layerFaults, type Scenario } from "./scenario.js";

export class LiveScenario {
  #base: Scenario;
  readonly #overlays = new Map<SimCategory, Faults>();

  constructor(base: Scenario) {
    this.#base = base;
  }

  /** Replaces the scenario and drops every overlay. */
  replace(scenario: Scenario): void {
    this.#base = scenario;
    this.#overlays.clear();
  }

  /** Sets the category's overlay (its keys win over the scenario's); an empty one removes it. */
  overlay(category: SimCategory, faults: Faults): void {
    if (Object.keys(faults).length === 0) this.#overlays.delete(category);
    else this.#overlays.set(category, faults);
  }

  faultsFor(category: SimCategory): Faults {
    return layerFaults(faultsFor(this.#base, category), this.#overlays.get(category));
  }

  /** The scenario with overlays folded in: what is in force now. */
  current(): Scenario {
    const categories: Partial<Record<SimCategory, Faults>> = { ...this.#base.categories };
    for (const [category, faults] of this.#overlays) {
      categories[category] = layerFaults(this.#base.categories[category], faults);
    }
    return { ...this.#base, categories };
  }
}
