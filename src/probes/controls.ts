import type { Control, ProbeSpec, Target } from "../model/config.js";
import { CONTROL_CATEGORY, controlProbeId } from "../model/validity.js";

/** Bytes of a control's answer kept: its status is all that matters. */
const CONTROL_BODY_BYTES = 4_096;

/**
 * A control as a probe the runner can run: probe `control:<id>` in the reserved category, through
 * a target of its own with no credentials and a fresh connection per run (so each run exercises
 * DNS, TCP and TLS like the provider's first request would), and no expectation: any HTTP
 * response shows the agent's network path works.
 */
export function controlProbe(control: Control): { readonly spec: ProbeSpec; readonly target: Target } {
  const url = new URL(control.url);
  const id = controlProbeId(control.id);
  const target = bareTarget(id, url.origin);
  const common = {
    id,
    category: CONTROL_CATEGORY,
    schedule: { kind: "every", intervalMs: control.intervalMs },
    timeoutMs: control.timeoutMs,
    writes: false,
    source: { file: "slo.yaml", line: 0 },
  } as const;
  // tcp and dns controls test the path below HTTP: a connection to the URL's host and port, or
  // its name resolving through the system resolver (as the provider's requests resolve theirs).
  if (control.kind === "tcp") {
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    return { spec: { ...common, kind: "tcp", target: null, host, port }, target };
  }
  if (control.kind === "dns") {
    return {
      spec: { ...common, kind: "dns", target: null, name: url.hostname, recordType: "A", server: null },
      target,
    };
  }
  const spec: ProbeSpec = {
    kind: control.kind,
    id,
    category: CONTROL_CATEGORY,
    target: id,
    schedule: { kind: "every", intervalMs: control.intervalMs },
    method: "GET",
    path: `${url.pathname}${url.search}`,
    headers: {},
    body: null,
    timeoutMs: control.timeoutMs,
    writes: false,
    followRedirects: 0,
    maxBodyBytes: CONTROL_BODY_BYTES,
    source: { file: "slo.yaml", line: 0 },
  };
  return { spec, target };
}

/**
 * A target of the agent's own making (a control's origin, the stand-in of a tls, dns or tcp
 * probe): no credentials, no headers, no rate cap, a fresh connection each time, TLS verified.
 */
export function bareTarget(id: string, baseUrl: string): Target {
  return {
    id,
    baseUrl,
    environment: "production",
    auth: { type: "none" },
    headers: {},
    maxRequestsPerSecond: null,
    keepAlive: false,
    tlsVerify: true,
  };
}
