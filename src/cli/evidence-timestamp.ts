import { type Dispatcher, request } from "undici";
import {
  checkTimestampReply,
  type Statement,
  type StatementTimestamp,
  statementBytes,
  timestampRequest,
} from "../record/index.js";

/** A TSA that has not answered in this long is treated as down. */
export const TSA_TIMEOUT_MS = 15_000;
/** A time-stamp reply is a few KiB (the TSA's certificate chain at most); more is not one. */
const MAX_REPLY_BYTES = 256 * 1024;

/**
 * Asks the TSA at url to timestamp the statement's JCS bytes. A TSA that is down, slow or answers
 * garbage costs one warning line on stderr and no timestamp: the report or bundle still comes out.
 */
export async function timestampStatement(
  command: string,
  url: string,
  statement: Statement,
  dispatcher?: Dispatcher,
): Promise<StatementTimestamp | null> {
  const tsq = timestampRequest(statementBytes(statement));
  try {
    const reply = await post(url, tsq.der, dispatcher);
    const genTime = checkTimestampReply(reply, tsq);
    return { tsa_url: url, tsr_base64: reply.toString("base64"), gen_time: genTime };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    process.stderr.write(`${command}: warning: the statement is not timestamped: ${url}: ${reason}\n`);
    return null;
  }
}

async function post(url: string, body: Buffer, dispatcher: Dispatcher | undefined): Promise<Buffer> {
  const response = await request(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
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
