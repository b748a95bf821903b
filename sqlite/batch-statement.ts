import type Database from "better-sqlite3";

/** Rows per statement: few enough for SQLite's variable limit at any width we use. */
const CHUNK_ROWS = 128;

/**
 * One SQL statement run over many rows with one call per chunk of up to 128 rows instead of one call
 * per row (better-sqlite3 and SQLite's parser pay a fixed cost per `run`). Rows are passed flat,
 * `width` values each, so a batch allocates one array rather than one per row. `sql(n)` builds the
 * statement for `n` rows (a multi-row `INSERT … VALUES (…), (…)`, an `UPDATE … FROM (VALUES …)` or a
 * `DELETE … WHERE id IN (…)` of width 1); statements are prepared once per chunk size and reused.
 * Run it inside a transaction. Shared by the manager's and the distributor's SQLite stores.
 */
export class BatchStatement {
  readonly #db: Database.Database;
  readonly #width: number;
  readonly #sql: (rows: number) => string;
  readonly #statements = new Map<number, Database.Statement>();

  constructor(db: Database.Database, width: number, sql: (rows: number) => string) {
    this.#db = db;
    this.#width = width;
    this.#sql = sql;
  }

  /** Runs the statement over the rows in `values` (`width` values per row); returns the rows changed. */
  run(values: readonly unknown[]): number {
    const step = CHUNK_ROWS * this.#width;
    let changes = 0;
    for (let start = 0; start < values.length; start += step) {
      const chunk = values.slice(start, start + step);
      changes += this.#statement(chunk.length / this.#width).run(chunk).changes;
    }
    return changes;
  }

  /**
   * Runs a multi-row INSERT into an AUTOINCREMENT table and returns the rowid of the first row; row
   * `i` got `first + i`. SQLite gives each row of an INSERT the table's largest rowid ever + 1, in
   * VALUES order, and the caller's write transaction keeps other writers out, so the rows of one
   * call are consecutive. Checked per chunk: a gap throws rather than mislabelling rows.
   */
  insert(values: readonly unknown[]): number {
    const step = CHUNK_ROWS * this.#width;
    let first = 0;
    let next = 0;
    for (let start = 0; start < values.length; start += step) {
      const chunk = values.slice(start, start + step);
      const rows = chunk.length / this.#width;
      const last = Number(this.#statement(rows).run(chunk).lastInsertRowid);
      if (start === 0) first = last - rows + 1;
      else if (last - rows + 1 !== next) throw new Error(`non-consecutive rowids in a batch insert (expected ${next})`);
      next = last + 1;
    }
    return first;
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
  const row = `(${new Array<string>(width).fill("?").join(", ")})`;
  return new Array<string>(rows).fill(row).join(", ");
}

/** `?, ?, …` for `count` values. */
export function placeholders(count: number): string {
  return new Array<string>(count).fill("?").join(", ");
}
