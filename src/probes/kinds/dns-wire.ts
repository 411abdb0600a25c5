import * as z from "zod";

/* Apart from the probe (dns.ts) so that the prober thread never loads zod. */

/** The keys of a `kind: dns` probe besides id, kind, every/schedule and timeout_ms. */
export const dnsFields = {
  name: z.string().min(1, "must not be empty").describe("(dns) The name to resolve."),
  type: z.enum(["A", "AAAA"]).default("A").describe("(dns) The record type asked for."),
  server: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+)(:\d{1,5})?$/, 'must be "address" or "address:port"')
    .optional()
    .describe("(dns) The DNS server asked (address or address:port); default: the system resolver."),
};
