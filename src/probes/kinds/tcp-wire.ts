import * as z from "zod";

/* Apart from the probe (tcp.ts) so that the prober thread never loads zod. */

/** The keys of a `kind: tcp` probe besides id, kind, every/schedule and timeout_ms. */
export const tcpFields = {
  host: z.string().min(1, "must not be empty").describe("(tcp, tls) Host name or address to connect to."),
  port: z
    .number()
    .int()
    .min(1, "must be a port 1-65535")
    .max(65535, "must be a port 1-65535")
    .describe("(tcp, tls) Port to connect to."),
};
