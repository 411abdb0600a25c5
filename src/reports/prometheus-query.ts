import type { Dispatcher } from "undici";
import { z } from "zod";
import { lazyUndici } from "../lazy-undici.js";
import { echoesToken, MAX_DECODED, plainText, remoteText, TooManyTexts } from "./remote-text.js";

/** A Prometheus that has not answered one query in this long is given up on. */
export const PROMETHEUS_TIMEOUT_MS = 30_000;
/** Answers are a few series per category and region; more than this is not one. */
/**
 * An answer's bytes read at the most. An agents' answer is well under 1 MiB (a few thousand series);
 * each answer is parsed whole before its series are counted, and six 16 MiB answers of 50,000
 * series held 1.4 GB (hostile review, round 16).
 */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** The Prometheus could not be asked, or answered something that is not a vector: names the URL. */
export class PrometheusQueryError extends Error {
  constructor(url: string, reason: string) {
    super(`${url}: ${reason}`);
    this.name = "PrometheusQueryError";
  }
}

/** One series of an instant vector: its labels and its value (NaN and ±Inf as Prometheus sends them). */
export interface VectorSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The value as sent, without control characters: checked to be a decimal as Prometheus writes one. */
  readonly text: string;
  /** The time it was evaluated at, in seconds since the epoch, as Prometheus gives it. */
  readonly at: number;
}

export interface PrometheusSource {
  /** The base URL, e.g. http://prometheus:9090 or https://mimir.example/prometheus. */
  readonly url: string;
  /** Sent as `Authorization: Bearer ...`; never shown. */
  readonly bearerToken?: string;
  readonly dispatcher?: Dispatcher;
}

/** Prometheus' own warnings (a partial answer from Thanos or Mimir, say): at most this many kept. */
const MAX_WARNINGS = 20;
/** A sample value as Prometheus writes it (checked further in prometheus-checks.ts). */
const NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?Inf)$/;

/** Warnings read of one answer: enough to find the gate's; the rest are counted. */
const MAX_WARNINGS_READ = 100;
/** Series in one answer: 13 categories by tens of regions by ~30 buckets is a few thousand. */
const MAX_SERIES = 50_000;

const answerSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("success"),
    warnings: z.array(z.string()).optional(),
    // VictoriaMetrics' cluster says a partial answer only this way, with no warning.
    isPartial: z.boolean().optional(),
    data: z.object({
      resultType: z.literal("vector"),
      result: z.array(
        z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }),
      ),
    }),
  }),
  z.object({ status: z.literal("error"), errorType: z.string().optional(), error: z.string() }),
]);

/** The URL as it may be shown: without user:password, query or fragment. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
  } catch {
    return "(the --prometheus URL)";
  }
}

/** An instant vector and the warnings Prometheus gave with it (printable, at most 200 characters each). */
export interface VectorAnswer {
  readonly samples: VectorSample[];
  readonly warnings: readonly string[];
  /**
   * Prometheus' note (2.48+) that histogram_quantile() took out-of-order buckets as cumulative,
   * given with a histogram_quantile() query and nothing else in it: what the report bounds and
   * lists itself, so not a warning about the answer.
   */
  readonly notes: readonly string[];
}

/**
 * The monotonicity note exactly as Prometheus words it (util/annotations: 3.x "(see ...)", 2.48+
 * "(and may give inaccurate results)", the metric name empty after `sum by`), and nothing more.
 * The metric it names is the agents' histogram or none: any other name is the server's own text
 * (seven characters of the token in each of six notes spelled it out, hostile review, round 17),
 * and such a text is a warning; so is one whose position in the query, "(1:26)", is longer than a
 * query is (round 18: 14 digits of it spelled seven of the token's characters).
 */
const MONOTONICITY_NOTE =
  /^(?:PromQL (?:info|warning): )?input to histogram_quantile needed to be fixed for monotonicity(?: \(see https:\/\/prometheus\.io\/docs\/prometheus\/latest\/querying\/functions\/#histogram_quantile\)| \(and may give inaccurate results\))?(?: for metric name "(?:slo_probe_duration_seconds(?:_bucket)?)?")?(?: \(\d{1,4}:\d{1,4}\))?$/;

/** The answer ended before it was whole: too large, or not all there in time. */
class AnswerCut extends Error {}

/**
 * An instant query (`/api/v1/query`) at `time` (ms since the epoch): the vector it returns. A label
 * in `known` (the configuration's category ids, the label names and outcomes the agents write) is
 * the report's own word, taken as it is: only other text can be an echo of the token.
 */
export async function instantVector(
  source: PrometheusSource,
  expr: string,
  time: number,
  known: ReadonlySet<string> = new Set(),
): Promise<VectorAnswer> {
  const shown = shownUrl(source.url);
  // Whatever the server sends back is scrubbed of the token before it is cut to length or shown: a
  // proxy that echoes the Authorization header in an error must not put the token, or a part of
  // it, in the report or on stderr.
  const remote = remoteText(source.bearerToken, known);
  const endpoint = `${source.url.replace(/\/+$/, "")}/api/v1/query`;
  const body = new URLSearchParams({ query: expr, time: (time / 1000).toFixed(3) }).toString();
  // Loaded on the first query, not when `report` starts: most reports ask no Prometheus.
  const { request } = await lazyUndici();
  let text: string;
  let status: number;
  try {
    const response = await request(endpoint, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        ...(source.bearerToken ? { authorization: `Bearer ${source.bearerToken}` } : {}),
      },
      signal: AbortSignal.timeout(PROMETHEUS_TIMEOUT_MS),
      ...(source.dispatcher ? { dispatcher: source.dispatcher } : {}),
    });
    status = response.statusCode;
    text = await boundedText(response.body);
  } catch (error) {
    if (error instanceof AnswerCut) throw new PrometheusQueryError(shown, error.message);
    if ((error as Error).name === "TimeoutError") {
      throw new PrometheusQueryError(
        shown,
        `no whole answer within ${PROMETHEUS_TIMEOUT_MS / 1000} s (a month of raw samples can take Prometheus long: try again, or ask a long-term store)`,
      );
    }
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new PrometheusQueryError(shown, `unreachable (${remote(String(reason), 200)})`);
  }
  try {
    const echoes = echoesToken(source.bearerToken);
    return parsedVector(shown, status, text, remote, echoes, expr.startsWith("histogram_quantile("));
  } catch (error) {
    if (!(error instanceof TooManyTexts)) throw error;
    throw new PrometheusQueryError(
      shown,
      `answered more than ${MAX_DECODED} distinct label values and warnings to one query (a few hundred are expected): not read`,
    );
  }
}

function parsedVector(
  shown: string,
  status: number,
  text: string,
  remote: (text: string, max?: number) => string,
  echoes: (text: string) => boolean,
  quantile: boolean,
): VectorAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PrometheusQueryError(shown, `HTTP ${status}, not a Prometheus API answer (not JSON)`);
  }
  // Bounded before the schema reads it: validating half a million series, or one series of a
  // million labels, held more than a gigabyte (hostile review, round 14).
  boundedResult(shown, json);
  const answer = answerSchema.safeParse(json);
  if (!answer.success) {
    throw new PrometheusQueryError(shown, `HTTP ${status}, not a Prometheus instant-vector answer`);
  }
  if (answer.data.status === "error") {
    throw new PrometheusQueryError(shown, `HTTP ${status}, query refused: ${remote(answer.data.error, 200)}`);
  }
  if (status !== 200) throw new PrometheusQueryError(shown, `HTTP ${status}`);
  // Labels end up on a terminal and in the report: no control characters from a remote server.
  const samples = answer.data.data.result.map((r) => ({
    labels: Object.fromEntries(Object.entries(r.metric).map(([k, v]) => [remote(k), remote(v)])),
    value: sampleValue(r.value[1]),
    // A number as Prometheus writes one holds no text to scrub (and is most of an answer's texts).
    text: NUMBER.test(r.value[1]) ? r.value[1] : remote(r.value[1], 100),
    at: r.value[0],
  }));
  // A value is shown as the number it is: one that spells out part of the token is not read.
  // (A number is a few dozen characters; a longer value is no number, and is refused as such.)
  if (answer.data.data.result.some((r) => r.value[1].length <= 64 && echoes(r.value[1]))) {
    throw new PrometheusQueryError(shown, "answered a value that repeats part of the bearer token: not read");
  }
  // The monotonicity note is recognised on a warning's whole text as read (plainText), before
  // the token is scrubbed from it (a token sharing 8 characters with the note's wording would
  // change it) and before the cut to 200 characters; it is shown scrubbed.
  const all = answer.data.warnings ?? [];
  const notes = new Set<string>();
  const said: string[] = [];
  for (const w of all.slice(0, MAX_WARNINGS_READ)) {
    if (quantile && MONOTONICITY_NOTE.test(plainText(w))) notes.add(remote(w));
    else said.push(remote(w));
  }
  const given = [
    ...(answer.data.isPartial === true
      ? ["the answer is partial (isPartial: true): some storage nodes did not answer"]
      : []),
    ...said,
    ...(all.length > MAX_WARNINGS_READ
      ? [`(and ${all.length - MAX_WARNINGS_READ} more warnings, not read)`]
      : []),
  ];
  const warnings = given.slice(0, MAX_WARNINGS).map((w) => (w.length > 200 ? `${w.slice(0, 200)}...` : w));
  if (given.length > MAX_WARNINGS)
    warnings.push(`(and ${given.length - MAX_WARNINGS} more warnings, not shown)`);
  return { samples, warnings, notes: [...notes].slice(0, MAX_WARNINGS).map((n) => n.slice(0, 300)) };
}

/** Labels of one series read at the most: `sum by (...)` answers carry four. */
const MAX_LABELS = 32;

/** An answer's series and each series' labels, counted before anything else reads them. */
function boundedResult(shown: string, json: unknown): void {
  const result = (json as { data?: { result?: unknown } } | null)?.data?.result;
  if (!Array.isArray(result)) return;
  if (result.length > MAX_SERIES) {
    throw new PrometheusQueryError(
      shown,
      `answered ${result.length} series to one query (a few per category, region and bucket are expected): not read`,
    );
  }
  const texts = new Set<unknown>();
  for (const series of result) {
    const metric = (series as { metric?: unknown } | null)?.metric;
    if (metric === null || typeof metric !== "object") continue;
    const labels = Object.entries(metric);
    if (labels.length > MAX_LABELS) {
      throw new PrometheusQueryError(
        shown,
        `answered a series with more than ${MAX_LABELS} labels (sum by (...) gives a few): not read`,
      );
    }
    for (const [name, value] of labels) texts.add(name).add(value);
    // Each distinct text is normalised and scrubbed: 50,000 series of 14 distinct labels each held
    // 2 GB across a report's answers (hostile review, round 15).
    if (texts.size > MAX_TEXTS) {
      throw new PrometheusQueryError(
        shown,
        `answered more than ${MAX_TEXTS} distinct label names and values to one query (a few hundred are expected): not read`,
      );
    }
  }
}

/** Distinct label names and values in one answer: regions by categories by bounds is a few hundred. */
const MAX_TEXTS = 5_000;

async function boundedText(body: AsyncIterable<unknown> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new AnswerCut(
        `answered more than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB to one query (a few series per category and region are expected): not read`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A sample's value as Prometheus writes it: a decimal, "+Inf", "-Inf" or "NaN" (Number() reads "+Inf" as NaN). */
function sampleValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}
