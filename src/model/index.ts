export * from "./config.js";
export * from "./result.js";
export * from "./secret.js";
export * from "./sink.js";
export * from "./time.js";
export * from "./snapshot.js";
export * from "./catalog.js";
