import * as z from "zod";
import { tcpFields } from "./tcp-wire.js";

/* Apart from the probe (tls.ts) so that the prober thread never loads zod. */

/** The keys of a `kind: tls` probe besides id, kind, every/schedule and timeout_ms. */
export const tlsFields = {
  ...tcpFields,
  port: tcpFields.port.default(443),
  min_days: z
    .number()
    .int("must be a whole number")
    .min(0, "must be >= 0")
    .default(14)
    .describe("(tls) The probe fails when the certificate expires in fewer days than this."),
  ca_file: z
    .string()
    .min(1, "must not be empty")
    .optional()
    .describe("(tls) PEM file of the CA certificates to trust instead of the system's (a private CA)."),
};
