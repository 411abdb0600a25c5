import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { closedPort, ephemeralPortsFrom } from "./loopback.js";

describe("closedPort, the refused target of the hostile suites", () => {
  it("is below the kernel's ephemeral range, where another test's listen(0) cannot take it, and refuses", async () => {
    const port = await closedPort();
    expect(port).toBeLessThan(ephemeralPortsFrom());
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("hands out a port once per process, so two refused controls are two targets", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => closedPort()));
    expect(new Set(ports).size).toBe(20);
  });
});
