import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { triedAddressesOf } from "../../src/probes/address.js";
import { freePort } from "../export/live-processes.js";

/** The addresses a failed connect names (target_unreached, docs/sla-arithmetic.md), from real socket errors. */

function failedConnect(host: string, port: number): Promise<Error> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.on("error", resolve);
    socket.on("connect", () => {
      socket.destroy();
      resolve(new Error("connected"));
    });
  });
}

describe("triedAddressesOf", () => {
  it("names the refused ip:port with the request's scheme, also inside a cause or an AggregateError", async () => {
    const port = await freePort();
    const refused = await failedConnect("127.0.0.1", port);
    expect((refused as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(triedAddressesOf(refused, "https://api.example.com")).toEqual([`https://127.0.0.1:${port}`]);
    const wrapped = new Error("fetch failed", { cause: new AggregateError([refused, refused]) });
    expect(triedAddressesOf(wrapped, "http://localhost:1")).toEqual([`http://127.0.0.1:${port}`]);
  });

  it("writes an IPv6 address in brackets", () => {
    const error = Object.assign(new Error("connect ECONNREFUSED ::1:8443"), { address: "::1", port: 8443 });
    expect(triedAddressesOf(error, "https://x")).toEqual(["https://[::1]:8443"]);
  });

  it("names nothing for a failure that names no address (a DNS failure)", async () => {
    const dns = await failedConnect("slo-agent-test.invalid", 80);
    expect(triedAddressesOf(dns, "http://slo-agent-test.invalid")).toEqual([]);
  });
});
