import { readFileSync } from "node:fs";
import type { Dispatcher } from "undici";
import { lazyUndici } from "../lazy-undici.js";
import {
  type AnchorRequest,
  RFC3161_ANCHOR,
  type Statement,
  type StatementTimestamp,
  statementBytes,
  tsaCertificatesOfPem,
} from "../record/index.js";
import { UsageError } from "./errors.js";

/** A TSA that has not answered in this long is treated as down. */
export const TSA_TIMEOUT_MS = 15_000;
/** A time-stamp reply is a few KiB (the TSA's certificate chain at most); more is not one. */
const MAX_REPLY_BYTES = 256 * 1024;

/** Where statements are timestamped (`agent.tsa_url`) and whom the token must chain to (`agent.tsa_ca_file`). */
export interface TsaSettings {
  readonly tsaUrl?: string | null;
  readonly tsaCaFile?: string | null;
}

/**
 * Asks the TSA at tsaUrl to timestamp the statement's JCS bytes and keeps the reply only when its
 * status, imprint and nonce are ours and the TSA's signature holds (chaining to tsaCaFile when set).
 * A TSA that is down, slow, answers garbage or a token that does not verify costs one warning line
 * on stderr and no timestamp: the report or bundle still comes out. No tsaUrl: null. An unreadable
 * tsaCaFile is a configuration error (exit 2), not a warning.
 */
export async function timestampStatement(
  command: string,
  tsa: TsaSettings,
  statement: Statement,
  dispatcher?: Dispatcher,
): Promise<StatementTimestamp | null> {
  if (!tsa.tsaUrl) return null;
  const url = tsa.tsaUrl;
  const trusted = tsa.tsaCaFile ? pinnedCas(command, tsa.tsaCaFile) : [];
  const stamp = RFC3161_ANCHOR.stamp(statementBytes(statement));
  try {
    const reply = await post(url, stamp, dispatcher);
    const genTime = await stamp.check(reply, trusted);
    return { tsa_url: url, tsr_base64: reply.toString("base64"), gen_time: genTime };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    process.stderr.write(`${command}: warning: the statement is not timestamped: ${url}: ${reason}\n`);
    return null;
  }
}

/** The DER certificates of agent.tsa_ca_file; exit 2 naming the file when it holds none. */
export function pinnedCas(command: string, file: string): readonly Buffer[] {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${command}: cannot read the TSA CA file ${file} (${reason})`);
  }
  try {
    return tsaCertificatesOfPem(pem, file);
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

async function post(url: string, stamp: AnchorRequest, dispatcher: Dispatcher | undefined): Promise<Buffer> {
  // Loaded when a TSA is asked, not at start-up: undici is a tenth of a CPU-second of every
  // report, verify and evidence command otherwise.
  const { request } = await lazyUndici();
  const response = await request(url, {
    method: "POST",
    body: stamp.body,
    headers: { "content-type": stamp.contentType, accept: stamp.accept },
    signal: AbortSignal.timeout(TSA_TIMEOUT_MS),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_REPLY_BYTES) {
      response.body.destroy();
      throw new Error(`the reply is larger than ${MAX_REPLY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  return Buffer.concat(chunks);
}
