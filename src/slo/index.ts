/** The SLA arithmetic of contract section 1: pure, time passed in, nothing read from the world. */
export * from "./availability.js";
export * from "./buckets.js";
export * from "./budget.js";
export * from "./controls.js";
export * from "./credits.js";
export * from "./exclusions.js";
export * from "./feed-windows.js";
export * from "./figures.js";
export * from "./histogram.js";
export * from "./maintenance.js";
export * from "./monthly.js";
export * from "./moved-maintenance.js";
export * from "./rolling.js";
export * from "./tally.js";
export * from "./target-reach.js";
export * from "./validity-log.js";
