import { describe, expect, it } from "vitest";
import { canonicalAddress, canonicalEndpoint, hostKeyOf, portOf } from "../../src/model/address.js";

/** Contract section 14: one address, one spelling (src/model/address.ts); bundle/recompute.py mirrors it. */
describe("addresses compare in canonical form", () => {
  it.each([
    [
      "an IPv4-mapped IPv6 address in hex words is its IPv4 address",
      "http://[::ffff:7f00:1]:8080",
      "http://127.0.0.1:8080",
    ],
    [
      "an IPv4-mapped IPv6 address in dotted form is its IPv4 address",
      "http://[::ffff:127.0.0.1]:8080",
      "http://127.0.0.1:8080",
    ],
    ["0.0.0.0 connects to the local host", "http://0.0.0.0:8080", "http://127.0.0.1:8080"],
    [":: connects to the local host", "http://[::]:8080", "http://127.0.0.1:8080"],
    ["::1 is the local host", "http://[0:0:0:0:0:0:0:1]:8080", "http://127.0.0.1:8080"],
    ["all of 127.0.0.0/8 is the local host", "http://127.0.0.2:8080", "http://127.0.0.1:8080"],
    ["the top of 127.0.0.0/8 too", "http://127.255.255.254:8080", "http://127.0.0.1:8080"],
    ["a mapped loopback address too", "http://[::ffff:127.0.0.2]:8080", "http://127.0.0.1:8080"],
    ["expanded IPv6 is compressed", "http://[2001:db8:0:0:0:0:0:1]:8080", "http://[2001:db8::1]:8080"],
    ["case does not matter", "HTTPS://[FE80::A]:443", "https://[fe80::a]:443"],
    ["126.0.0.1 and 128.0.0.1 are not the local host", "http://128.0.0.1:8080", "http://128.0.0.1:8080"],
    ["text that is no address is kept", "not an address", "not an address"],
  ])("%s", (_rule, spelled, canonical) => {
    expect(canonicalAddress(spelled)).toBe(canonical);
  });

  it.each([
    ["http://[::ffff:7f00:1]:8080", "127.0.0.1:8080"],
    ["::ffff:127.0.0.1:443", "127.0.0.1:443"],
    ["::1:22", "127.0.0.1:22"],
    ["127.0.0.2:22", "127.0.0.1:22"],
    ["0.0.0.0:9", "127.0.0.1:9"],
  ])("the endpoint of %s (any scheme, or a tcp result's bare ip:port) is %s", (spelled, endpoint) => {
    expect(canonicalEndpoint(spelled)).toBe(endpoint);
  });

  it("every spelling of the local host is one host; a missing port is the scheme's default", () => {
    for (const url of [
      "http://localhost/",
      "http://LOCALHOST./",
      "http://a.localhost/",
      "http://127.0.0.1/",
      "http://[::1]/",
      "http://0.0.0.0/",
      "http://[::]/",
      "http://[::ffff:127.0.0.1]/",
      "http://127.0.0.2/",
      "http://127.255.255.254/",
      "http://[::ffff:127.0.0.2]/",
    ])
      expect(hostKeyOf(url), url).toBe("localhost");
    expect(hostKeyOf("https://API.Example.com./x")).toBe("api.example.com");
    expect(hostKeyOf("http://128.0.0.1/")).toBe("128.0.0.1");
    expect([portOf("https://x/"), portOf("http://x/"), portOf("http://x:8080/")]).toEqual([443, 80, 8080]);
  });
});
