import type Database from "better-sqlite3";

/** Rows per statement of a {@link BatchStatement}: few enough for SQLite's variable limit at any width. */
const CHUNK_ROWS = 128;

/**
 * One SQL statement run over many rows with one call per chunk of {@link CHUNK_ROWS} rows instead of
 * one call per row (better-sqlite3 pays a fixed cost per `run`). `sql(n)` builds the statement for
 * `n` rows, e.g. a multi-row `INSERT … VALUES (…), (…)` or a `DELETE … WHERE id IN (…)`; statements
 * are prepared once per chunk size and reused. Run it inside a transaction.
 */
export class BatchStatement<Row extends readonly unknown[]> {
  readonly #db: Database.Database;
  readonly #sql: (rows: number) => string;
  readonly #statements = new Map<number, Database.Statement>();

  constructor(db: Database.Database, sql: (rows: number) => string) {
    this.#db = db;
    this.#sql = sql;
  }

  /** Runs the statement over `rows`; resolves to the total number of rows changed. */
  run(rows: readonly Row[]): number {
    let changes = 0;
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const chunk = rows.slice(start, start + CHUNK_ROWS);
      changes += this.#statement(chunk.length).run(chunk.flat()).changes;
    }
    return changes;
  }

  #statement(rows: number): Database.Statement {
    let statement = this.#statements.get(rows);
    if (statement === undefined) {
      statement = this.#db.prepare(this.#sql(rows));
      this.#statements.set(rows, statement);
    }
    return statement;
  }
}

/** `(?, ?, …), (…)` for `rows` rows of `width` values. */
export function valuesList(rows: number, width: number): string {
  const row = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => row).join(", ");
}

/** `?, ?, …` for `count` values. */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => "?").join(", ");
}
