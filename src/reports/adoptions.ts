import type { InputRecord } from "../record/index.js";
import type { AdoptionRef } from "./model.js";

/** What an `adoption` input record's payload holds (src/record/store.ts, adopt()). */
interface AdoptionPayload {
  readonly overridden?: string;
  readonly head_seq?: number;
  readonly key_id?: string;
  readonly previous_key_id?: string | null;
  readonly previous_checkpoint?: {
    readonly head_seq: number;
    readonly head_hash: string;
    readonly created_at: string;
  } | null;
}

/**
 * The adoptions a month's figures rest on: made after the month began (they signed over whatever
 * the store held of it then), or whose head reaches the month's first record.
 */
export function monthAdoptions(
  records: readonly InputRecord[],
  monthStart: number,
  firstSeq: number,
): AdoptionRef[] {
  return records.flatMap((record) => {
    const p = JSON.parse(record.payload) as AdoptionPayload;
    const headSeq = p.head_seq ?? 0;
    if (record.ts <= monthStart && !(firstSeq > 0 && headSeq >= firstSeq)) return [];
    const before = p.previous_checkpoint ?? null;
    return [
      {
        seq: record.seq,
        adopted_at: new Date(record.ts).toISOString(),
        overridden: p.overridden ?? "",
        head_seq: headSeq,
        key_id: p.key_id ?? "",
        previous_checkpoint: before && { ...before, key_id: p.previous_key_id ?? "" },
      },
    ];
  });
}

/** The warning every format shows for an adoption. */
export function adoptionWarning(a: AdoptionRef): string {
  const before = a.previous_checkpoint
    ? `the newest checkpoint left before it signed records up to seq ${a.previous_checkpoint.head_seq} (${a.previous_checkpoint.created_at}, key ${a.previous_checkpoint.key_id})`
    : "no checkpoint was left before it";
  return `the evidence store was adopted at ${a.adopted_at} (input record seq ${a.seq}, key ${a.key_id}, head seq ${a.head_seq}) over the writers' refusal: ${a.overridden}. ${before}; what it signed beyond rests on the operator's word, not on the checkpoints`;
}
