import type Database from "better-sqlite3";

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * The connection's prepared statement for `sql`, prepared once and kept: the writer's statements
 * run on every batch, and parsing them again each time (the 32-row rollup upsert most of all) cost
 * more CPU than a small batch's inserts. Only for statements that are run, never iterated (an
 * iterating statement is busy until its iterator ends).
 */
export function statementOf(db: Database.Database, sql: string): Database.Statement {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
