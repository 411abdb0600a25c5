import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, LOG_FORMATS, scrubbingLogger } from "../../src/agent/log.js";
import { systemClock } from "../../src/clock/system.js";
import { SecretScrubber } from "../../src/model/secret.js";

/**
 * Every line the daemon logs goes through the agent's scrubber: a message or a field quoting what
 * a server answered (a pause reason, a store error) may hold any probe's credential, encoded.
 */
const S = "Kx9ApiKeySecretValue77";

describe("the daemon's logger", () => {
  for (const format of LOG_FORMATS) {
    it(`takes every secret of the agent out of the message and the fields (${format})`, () => {
      const stream = new PassThrough();
      let written = "";
      stream.on("data", (d) => {
        written += d;
      });
      let scrubber = new SecretScrubber([S]);
      const log = scrubbingLogger(createLogger({ clock: systemClock, format, stream }), () => scrubber);
      log("warn", `target answered ${S}`, {
        reason: Buffer.from(`x${S}`).toString("base64"),
        nested: { list: [`id-${Buffer.from(S).toString("hex")}`] },
        count: 3,
      });
      scrubber = new SecretScrubber(["Other-Secret-After-Reload"]);
      log("warn", "after reload Other-Secret-After-Reload");
      expect(written).not.toContain(S);
      expect(written).not.toContain(Buffer.from(`x${S}`).toString("base64").slice(3, -3));
      expect(written).not.toContain(Buffer.from(S).toString("hex"));
      expect(written).not.toContain("Other-Secret-After-Reload");
      expect(written).toContain("target answered [redacted]");
      expect(written).toContain("id-[redacted]");
      expect(written).toContain("after reload [redacted]");
    });
  }
});
