import { afterEach, describe, expect, it } from "vitest";
import { configReloader } from "../../src/cli/reload-config.js";
import { ConfigDirs, minimalSlo } from "../config/config-dir.js";

const dirs = new ConfigDirs();
afterEach(() => dirs.remove());

describe("a reload (SIGHUP) logs the configuration's warnings", () => {
  it("a target whose probes would need more runs in flight during a hang than max_in_flight", async () => {
    const slo = minimalSlo({
      targets: `targets:
  klarna: {base_url: "https://api.playground.klarna.com/", environment: playground, max_in_flight: 1}
`,
      probes: `probes:
  - {id: a, category: payment_request, target: klarna, every: 2s, timeout_ms: 1500, path: /a}
  - {id: b, category: payment_request, target: klarna, every: 2s, timeout_ms: 1500, path: /b}
`,
    });
    const dir = await dirs.create({ "slo.yaml": slo });
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    await configReloader(`${dir}/slo.yaml`, (level, msg, fields) => lines.push({ level, msg, fields }))();
    expect(lines).toEqual([
      {
        level: "warn",
        msg: "configuration warning",
        fields: {
          warning: expect.stringMatching(
            /targets\.klarna\.max_in_flight: warning: while this target hangs its probes need 2 runs in flight .* but max_in_flight is 1/,
          ),
        },
      },
    ]);
  });
});
