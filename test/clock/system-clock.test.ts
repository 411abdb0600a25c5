import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";

describe("systemClock.setTimeout", () => {
  it("a delay beyond 2^31 - 1 ms (a cron schedule a month away) does not fire at once", async () => {
    let fired = 0;
    const far = systemClock.setTimeout(() => fired++, 2 ** 31 + 60_000);
    let soon = false;
    const near = systemClock.setTimeout(() => (soon = true), 10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    far.cancel();
    near.cancel();
    expect(soon).toBe(true);
    expect(fired).toBe(0);
  });
});
