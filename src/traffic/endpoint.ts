import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { authorizeAdmin, type Route, reply } from "../export/index.js";
import type { Target, TargetId } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { monthInterval, monthOf } from "../model/time.js";
import type { TrafficSettings } from "../model/traffic.js";
import { decodeJsonSpans, OtlpDecodeError, type OtlpSpan } from "./otlp-decode.js";
import { SpanClassifier } from "./spans.js";

const gunzipAsync = promisify(gunzip);

/** The protobuf decoder and encoder, loaded with the first protobuf request (otlp-protobuf.ts). */
type ProtobufCodec = typeof import("./otlp-protobuf.js");

/** What the endpoint writes to and asks about: the evidence store. */
export interface TrafficSink {
  record(result: ProbeResult): void;
  health(): { readonly buffered: number };
}

export interface TrafficEndpointOptions {
  /**
   * The running configuration's traffic section and targets (a reload changes them); null while
   * no `traffic:` is configured, when the endpoint answers 404 as for any path not served.
   */
  readonly settings: () => {
    readonly traffic: TrafficSettings;
    readonly targets: ReadonlyMap<TargetId, Target>;
  } | null;
  readonly sink: TrafficSink;
  /**
   * Results waiting to be written beyond which a request is refused with 429: the store's write
   * queue keeps at most 100,000 in memory and drops the oldest beyond. Default 50,000.
   */
  readonly maxQueued?: number;
  /** Retry-After of a 429, in seconds. Default 5. */
  readonly retryAfterSeconds?: number;
  /** Hears of the requests refused with 429 (slo_traffic_dropped_total). */
  readonly dropped?: (count: number) => void;
  /** The agent's clock: spans dated too far from it are rejected (a sender's clock gone wrong). */
  readonly now: () => number;
}

/** How far ahead of the agent's clock a span may start: more is a sender's clock gone wrong. */
export const MAX_SPAN_AHEAD_MS = 5 * 60_000;
/** How old a span may be when it arrives: a Collector's retries after an outage, not a back-fill. */
export const MAX_SPAN_AGE_MS = 7 * 24 * 3_600_000;

/**
 * How long after a UTC month ends its spans are still taken (an exporter's last batch in flight).
 * After that the month is closed: its statement and bundle may have been made, and a late span
 * would change their figures.
 */
export const CLOSED_MONTH_GRACE_MS = 15 * 60_000;

/** The earliest start a span may have at `now`: within MAX_SPAN_AGE_MS, and in a month not closed. */
export function earliestSpanStart(now: number): number {
  return Math.max(now - MAX_SPAN_AGE_MS, monthInterval(monthOf(now - CLOSED_MONTH_GRACE_MS)).start);
}

/** What one export request came to: spans read, results queued, spans ignored and rejected. */
export interface IngestOutcome {
  readonly spans: number;
  readonly accepted: number;
  readonly ignored: number;
  readonly rejected: number;
  /** Of the rejected: dated more than MAX_SPAN_AHEAD_MS ahead of the agent's clock or MAX_SPAN_AGE_MS behind. */
  readonly misdated: number;
  /** Of the rejected: started in a month closed more than CLOSED_MONTH_GRACE_MS ago. */
  readonly closed: number;
}

const DEFAULT_MAX_QUEUED = 50_000;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `POST /v1/traces` (OTLP/HTTP, contract section 19): protobuf or JSON, gzip or not, with
 * `Authorization: Bearer <traffic.token>`. A request is taken whole or refused whole (429 when the
 * store's write queue is full), so the sender's retry neither loses nor repeats a request; a
 * retried span is stored once (its span id is part of its identity).
 */
export function trafficRoute(options: TrafficEndpointOptions): Route {
  let classifierOf: { settings: unknown; classifier: SpanClassifier } | null = null;
  const classifier = (traffic: TrafficSettings, targets: ReadonlyMap<TargetId, Target>) => {
    if (classifierOf?.settings !== traffic)
      classifierOf = {
        settings: traffic,
        classifier: new SpanClassifier(traffic.routes, targets, traffic.clientTimeoutMs),
      };
    return classifierOf.classifier;
  };
  return {
    path: "/v1/traces",
    method: "POST",
    async handle(request, response) {
      const settings = options.settings();
      if (settings === null) {
        request.resume();
        reply(response, 404, "not found: traffic: is not configured (docs/traffic.md)\n");
        return;
      }
      const { traffic, targets } = settings;
      if (authorizeAdmin(request.headers.authorization, traffic.token) !== 200) {
        request.resume();
        reply(response, 401, "unauthorized: send Authorization: Bearer <traffic.token>\n", {
          "www-authenticate": "Bearer",
        });
        return;
      }
      try {
        const json = contentTypeOf(request) === "json";
        const body = await readBody(request, traffic.maxBodyBytes);
        const codec = json ? null : await import("./otlp-protobuf.js");
        const spans = codec ? codec.decodeProtobufSpans(body) : decodeJsonSpans(body.toString("utf8"));
        const outcome = ingest(spans, classifier(traffic, targets), options);
        if (outcome === "full") {
          reply(response, 429, "too many requests: the evidence store's write queue is full; retry later\n", {
            "retry-after": String(options.retryAfterSeconds ?? 5),
          });
          return;
        }
        answer(response, codec, outcome);
      } catch (thrown) {
        const error =
          thrown instanceof OtlpDecodeError
            ? new HttpProblem(400, `bad OTLP request: ${thrown.message}`)
            : thrown;
        if (!(error instanceof HttpProblem)) throw error;
        // A body not read to its end: close the connection rather than read what is left.
        if (!request.complete) response.setHeader("connection", "close");
        reply(response, error.status, `${error.message}\n`);
        if (!request.complete) request.destroy();
      }
    },
  };
}

/** Classifies the spans and queues the results, all of them or (queue full) none. */
function ingest(
  spans: readonly OtlpSpan[],
  classifier: SpanClassifier,
  options: TrafficEndpointOptions,
): IngestOutcome | "full" {
  const results: ProbeResult[] = [];
  let ignored = 0;
  let rejected = 0;
  const now = options.now();
  const earliest = earliestSpanStart(now);
  let misdated = 0;
  let closed = 0;
  for (const span of spans) {
    const outcome = classifier.classify(span);
    if (
      outcome.kind === "result" &&
      (span.startMs > now + MAX_SPAN_AHEAD_MS || span.startMs < now - MAX_SPAN_AGE_MS)
    ) {
      misdated++;
      rejected++;
    } else if (outcome.kind === "result" && span.startMs < earliest) {
      closed++;
      rejected++;
    } else if (outcome.kind === "result") results.push(outcome.result);
    else if (outcome.kind === "ignored") ignored++;
    else rejected++;
  }
  const buffered = options.sink.health().buffered;
  // An empty queue takes any request: one larger than the bound would otherwise be refused forever.
  if (
    results.length > 0 &&
    buffered > 0 &&
    buffered + results.length > (options.maxQueued ?? DEFAULT_MAX_QUEUED)
  ) {
    options.dropped?.(results.length);
    return "full";
  }
  for (const result of results) options.sink.record(result);
  return { spans: spans.length, accepted: results.length, ignored, rejected, misdated, closed };
}

/**
 * 200 with an ExportTraceServiceResponse, in the request's encoding (JSON when `codec` is null,
 * else protobuf); partial_success names rejected spans.
 */
function answer(response: ServerResponse, codec: ProtobufCodec | null, outcome: IngestOutcome): void {
  const unreadable = outcome.rejected - outcome.misdated - outcome.closed;
  const message = [
    unreadable > 0
      ? `${unreadable} span(s) matched a traffic route but carried neither http.response.status_code nor error.type, or no valid span id or times`
      : "",
    outcome.misdated > 0
      ? `${outcome.misdated} span(s) started more than 5 minutes ahead of the agent's clock or more than 7 days ago: check the sender's clock`
      : "",
    outcome.closed > 0
      ? `${outcome.closed} span(s) started in a month that ended more than 15 minutes ago: its figures are closed and late spans are not taken`
      : "",
  ]
    .filter((m) => m !== "")
    .join("; ");
  if (codec === null) {
    const body =
      outcome.rejected === 0
        ? {}
        : { partialSuccess: { rejectedSpans: String(outcome.rejected), errorMessage: message } };
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
    return;
  }
  response.writeHead(200, { "content-type": "application/x-protobuf" });
  response.end(codec.encodeProtobufResponse(outcome.rejected, message));
}

function contentTypeOf(request: IncomingMessage): "json" | "protobuf" {
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") return "json";
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  throw new HttpProblem(
    415,
    `unsupported content-type ${JSON.stringify(type)}: send application/x-protobuf or application/json (OTLP/HTTP)`,
  );
}

/** The body, gunzipped when it says so; 413 beyond max bytes either way. */
async function readBody(request: IncomingMessage, max: number): Promise<Buffer> {
  const encoding = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity")
    throw new HttpProblem(415, `unsupported content-encoding "${encoding}": send gzip or none`);
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (declared > max) throw new HttpProblem(413, `request body larger than traffic.max_body_bytes (${max})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpProblem(413, `request body larger than traffic.max_body_bytes (${max})`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks, size);
  if (encoding === "identity") return body;
  try {
    return await gunzipAsync(body, { maxOutputLength: max });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
      throw new HttpProblem(413, `decompressed body larger than traffic.max_body_bytes (${max})`);
    throw new HttpProblem(400, `body is not valid gzip (${(error as Error).message})`);
  }
}
