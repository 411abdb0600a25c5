import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A credential. Its value is reachable only through reveal(); every way a value is usually turned
 * into text (String(), JSON, util.inspect, console.log, template literals) yields "[redacted]".
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
