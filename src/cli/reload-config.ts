import type { Logger } from "../agent/log.js";
import { formatWarning, loadConfig } from "../config/index.js";
import type { SloConfig } from "../model/config.js";

/** Reads the configuration file again for a reload; its warnings go to the log. */
export function configReloader(file: string, log: Logger): () => Promise<SloConfig> {
  return async () => {
    const { config, warnings } = await loadConfig(file);
    for (const warning of warnings) log("warn", "configuration warning", { warning: formatWarning(warning) });
    return config;
  };
}
