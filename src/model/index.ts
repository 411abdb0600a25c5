export * from "./catalog.js";
export * from "./config.js";
export * from "./result.js";
export * from "./secret.js";
export * from "./sink.js";
export * from "./snapshot.js";
export * from "./text.js";
export * from "./time.js";
