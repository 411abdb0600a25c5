/** Exit codes of contract section 2. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad usage, bad configuration or bad input: exit 2, one line per problem. */
export class UsageError extends Error {
  readonly lines: readonly string[];
  constructor(lines: string | readonly string[]) {
    const all = typeof lines === "string" ? [lines] : lines;
    super(all.join("\n"));
    this.name = "UsageError";
    this.lines = all;
  }
}

/** A check the command performs failed (an SLO missed, a verification failed): exit 1. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckFailed";
  }
}
