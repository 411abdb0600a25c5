import { createHash } from "node:crypto";
import {
  type Statement,
  type StatementTimestamp,
  statementBytes,
  timestampTokenInfo,
} from "../record/index.js";
import { formatInstant } from "./format.js";

/** The command a reader runs on the statement and the token, the same as the evidence bundle's README. */
export const TIMESTAMP_VERIFY_COMMAND =
  "openssl ts -verify -data statement.json -in statement.tsr -CAfile tsa.pem";

/** What Markdown and HTML say about the statement's RFC 3161 timestamp, as plain text. */
export interface TimestampTexts {
  /** Who timestamped what, when: TSA, time, serial number and the imprint. */
  readonly sentence: string;
  /** Where the token is and how to check it, before the command; `code` marks up names (the rest is plain words). */
  howTo(code: (name: string) => string): string;
  readonly command: string;
}

/**
 * The timestamp's figures read from the token itself (serial number, imprint), so a reader can
 * match them with `openssl ts -reply -in statement.tsr -text`. A token that cannot be read is
 * said to be so; the TSA and time from the JSON are still shown.
 */
export function timestampTexts(
  timestamp: StatementTimestamp,
  statement: Statement | undefined,
): TimestampTexts {
  const at = `${formatInstant(timestamp.gen_time)} UTC`;
  let detail: string;
  try {
    const info = timestampTokenInfo(Buffer.from(timestamp.tsr_base64, "base64"));
    const ours = statement ? createHash("sha256").update(statementBytes(statement)).digest("hex") : null;
    const matches =
      ours === null ? "" : info.imprintSha256 === ours ? ", the statement's" : ", NOT the statement's";
    detail = `serial number ${info.serial}, over SHA-256 ${info.imprintSha256}${matches}`;
  } catch (error) {
    detail = `the token could not be read: ${(error as Error).message}`;
  }
  return {
    sentence: `The statement is timestamped (RFC 3161) by the time-stamp authority ${timestamp.tsa_url} at ${at} (${detail}).`,
    howTo: (code) =>
      `The token is ${code("evidence.timestamp.tsr_base64")} in the JSON form (base64 DER) and ${code("statement.tsr")} in the evidence bundle. ` +
      `To check it, save the statement's RFC 8785 bytes as ${code("statement.json")} and the decoded token as ${code("statement.tsr")}, ` +
      `get the TSA's CA certificate (${code("tsa.pem")}) from the TSA operator, not from us, and run:`,
    command: TIMESTAMP_VERIFY_COMMAND,
  };
}
