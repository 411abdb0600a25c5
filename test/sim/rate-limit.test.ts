import { describe, expect, it } from "vitest";
import { ask, clockAt, withSimulator } from "./simulator-fixture.js";

const ACCOUNTS = "/v2/accounts?limit=1";
const LIMITED = "categories: {account_operations: {rate_limit: {limit: 3, window_s: 60}}}";

describe("rate limit", () => {
  it("answers the first `limit` requests of a window, counting X-Ratelimit-Remaining down", async () => {
    const now = 600_000 + 15_000;
    await withSimulator(
      LIMITED,
      async (sim, client) => {
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await ask(client, sim.url + ACCOUNTS));
        expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
        expect(answers.map((a) => a.headers["x-ratelimit-remaining"])).toEqual(["2", "1", "0"]);
        expect(answers.map((a) => a.headers["x-ratelimit-limit"])).toEqual(["3", "3", "3"]);
        expect(answers[0]!.headers["x-ratelimit-reset"]).toBe("45");
      },
      { clock: clockAt(() => now) },
    );
  });

  it("past the limit answers 429 TOO_MANY_REQUESTS with Retry-After until the window resets", async () => {
    let now = 600_000 + 15_000;
    await withSimulator(
      LIMITED,
      async (sim, client) => {
        for (let i = 0; i < 3; i++) await ask(client, sim.url + ACCOUNTS);
        const refused = await ask(client, sim.url + ACCOUNTS);
        expect(refused.status).toBe(429);
        expect(refused.json).toMatchObject({ error_code: "TOO_MANY_REQUESTS" });
        expect(refused.headers).toMatchObject({ "retry-after": "45", "x-ratelimit-remaining": "0" });

        now = 660_000; // the next window
        expect((await ask(client, sim.url + ACCOUNTS)).status).toBe(200);
      },
      { clock: clockAt(() => now) },
    );
  });

  it("counts each category separately, so one busy category does not starve another", async () => {
    await withSimulator("default: {rate_limit: {limit: 1, window_s: 60}}", async (sim, client) => {
      expect((await ask(client, sim.url + ACCOUNTS)).status).toBe(200);
      expect((await ask(client, sim.url + ACCOUNTS)).status).toBe(429);
      expect((await ask(client, `${sim.url}/v2/disputes`)).status).toBe(200);
    });
  });

  it("without a rate_limit fault nothing is refused, and the headers show a nominal limit", async () => {
    await withSimulator("{}", async (sim, client) => {
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push((await ask(client, sim.url + ACCOUNTS)).status);
      expect(new Set(statuses)).toEqual(new Set([200]));
    });
  });
});
