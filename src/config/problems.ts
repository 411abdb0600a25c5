/** One thing wrong with the configuration, located in its file. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Dotted field path, e.g. "categories.settlements.service_class" or "[2].every". */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`;
}

/** Thrown by the loader with every problem found, never just the first. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** A warning: the configuration loads, but something in it is probably not what was meant. */
export function formatWarning(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path}: warning: ${p.message}`;
}
