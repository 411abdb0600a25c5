import type Database from "better-sqlite3";
import type { ProbeResult } from "../../model/result.js";
import type { RejectedLine } from "./line-chunks.js";
import { parseResultLine } from "./ndjson.js";

/** A batch of results with their canonical forms and line numbers, index for index. */
export interface LineBatch {
  readonly results: readonly ProbeResult[];
  readonly canonicals: readonly string[];
  readonly lines: readonly number[];
}

const PAGE_ROWS = 10_000;

/**
 * The part of a result's identity beyond agent + probe + ts: a merchant request's span id (many
 * share a millisecond and a route), '' for a probe's result. The store's unique index
 * (src/record/schema.ts) keys on the same.
 */
export function spanKey(result: ProbeResult): string {
  return result.source === "traffic" ? (result.correlationId ?? "") : "";
}

/** The message for a line whose probe + ts an earlier line of the file had, with other content. */
export function conflictWithLine(line: number, earlier: number): RejectedLine {
  return {
    line,
    message: `same probe and ts as line ${earlier}, with other content (conflicting duplicate)`,
  };
}

/**
 * A file not in chain order, staged in a temporary table (on disk: the writer sets temp_store to
 * FILE) and read back sorted a page at a time, so memory stays bounded whatever the file's size.
 * The table's key is a result's identity (ts, probe, agent, and a merchant request's span id): a repeated line is dropped when it is the same result, and
 * refused, naming both lines, when it is not. Use it inside the import's write transaction.
 */
export class ImportStaging {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #earlier: Database.Statement;
  /** Lines dropped as exact repeats of an earlier line. */
  repeats = 0;
  /** Results staged. */
  count = 0;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(`DROP TABLE IF EXISTS temp.import_staging;
      CREATE TEMP TABLE import_staging (
        ts INTEGER NOT NULL, probe TEXT NOT NULL, agent TEXT NOT NULL, span TEXT NOT NULL,
        line INTEGER NOT NULL, canonical TEXT NOT NULL, PRIMARY KEY (ts, probe, agent, span)
      ) WITHOUT ROWID`);
    this.#insert = db.prepare(
      "INSERT INTO temp.import_staging (ts, probe, agent, span, line, canonical) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.#earlier = db.prepare(
      "SELECT line, canonical FROM temp.import_staging WHERE ts = ? AND probe = ? AND agent = ? AND span = ?",
    );
  }

  /** Stages a batch; returns the lines refused as conflicting with an earlier one. */
  add(batch: LineBatch): RejectedLine[] {
    const conflicts: RejectedLine[] = [];
    batch.results.forEach((result, i) => {
      const canonical = batch.canonicals[i]!;
      const agent = result.agent ?? "";
      const span = spanKey(result);
      if (this.#insert.run(result.ts, result.probe, agent, span, batch.lines[i]!, canonical).changes === 1) {
        this.count++;
        return;
      }
      const earlier = this.#earlier.get(result.ts, result.probe, agent, span) as {
        line: number;
        canonical: string;
      };
      if (earlier.canonical === canonical) this.repeats++;
      else conflicts.push(conflictWithLine(batch.lines[i]!, earlier.line));
    });
    return conflicts;
  }

  /** The staged results in chain order (ts, probe, agent, span), a page at a time. */
  *sorted(): Generator<LineBatch> {
    // Paged by key rather than iterated: the connection writes each page before reading the next.
    const page = this.#db.prepare(
      `SELECT ts, probe, agent, span, line, canonical FROM temp.import_staging
       WHERE (ts, probe, agent, span) > (?, ?, ?, ?) ORDER BY ts, probe, agent, span LIMIT ${PAGE_ROWS}`,
    );
    let after: [number, string, string, string] = [Number.MIN_SAFE_INTEGER, "", "", ""];
    for (;;) {
      const rows = page.all(...after) as {
        ts: number;
        probe: string;
        agent: string;
        span: string;
        line: number;
        canonical: string;
      }[];
      if (rows.length === 0) return;
      yield {
        results: rows.map((row) => resultOfCanonical(row.canonical)),
        canonicals: rows.map((row) => row.canonical),
        lines: rows.map((row) => row.line),
      };
      const last = rows[rows.length - 1]!;
      after = [last.ts, last.probe, last.agent, last.span];
    }
  }

  drop(): void {
    this.#db.exec("DROP TABLE IF EXISTS temp.import_staging");
  }
}

/** The canonical form is a valid line of contract section 3: parsing it gives the result back. */
function resultOfCanonical(canonical: string): ProbeResult {
  const parsed = parseResultLine(canonical, null);
  if ("problem" in parsed) throw new Error(`import: a staged result does not parse: ${parsed.problem}`);
  return parsed.result;
}
