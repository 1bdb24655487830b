/**
 * A D1 binding that counts what D1 reports it read and wrote (`meta.rows_read`, `meta.rows_written`, as D1 bills
 * them) for every statement run through it, grouped by SQL text. Pass `counter.db` where the code takes a D1
 * binding (`database(counter.db)`, `{ ...env, DB: counter.db }`).
 *
 * `raw()` and `first()` return no meta, so they are answered from `all()`: a SELECT runs `all()` for the meta and
 * `raw()` for the exact answer (reading twice, counted once); a write runs once through `all()` and its rows are
 * turned into arrays in column order (RETURNING lists one table's columns, so no name repeats).
 *
 * Round trips count what production sends to D1: one per statement run alone, one per `batch` (whatever its size).
 * `sizeAfter` is the last `meta.size_after` seen (the database's size in bytes: pages × page size).
 */

export interface StatementCount {
  sql: string;
  calls: number;
  rowsRead: number;
  rowsWritten: number;
}

export interface D1Totals {
  statements: number;
  roundTrips: number;
  rowsRead: number;
  rowsWritten: number;
  sizeAfter: number;
}

export class D1Counter {
  readonly db: D1Database;
  private bySql = new Map<string, StatementCount>();
  private totals: D1Totals = { statements: 0, roundTrips: 0, rowsRead: 0, rowsWritten: 0, sizeAfter: 0 };

  constructor(private readonly inner: D1Database) {
    const wrapper = {
      prepare: (sql: string) => new CountingStatement(this, inner.prepare(sql), sql),
      batch: async (statements: CountingStatement[]) => {
        const results = await inner.batch(statements.map((statement) => statement.inner));
        this.totals.roundTrips++;
        results.forEach((result, i) => this.add(statements[i]!.sql, result.meta));
        return results;
      },
      exec: (sql: string) => inner.exec(sql),
      withSession: () => {
        throw new Error("sessions are not counted");
      },
      dump: () => inner.dump(),
    };
    this.db = wrapper as unknown as D1Database;
  }

  /** One statement sent alone: a round trip of its own. */
  trip(): void {
    this.totals.roundTrips++;
  }

  add(sql: string, meta: { rows_read?: number; rows_written?: number; size_after?: number } | undefined): void {
    const read = meta?.rows_read ?? 0;
    const written = meta?.rows_written ?? 0;
    const entry = this.bySql.get(sql) ?? { sql, calls: 0, rowsRead: 0, rowsWritten: 0 };
    entry.calls++;
    entry.rowsRead += read;
    entry.rowsWritten += written;
    this.bySql.set(sql, entry);
    this.totals.statements++;
    this.totals.rowsRead += read;
    this.totals.rowsWritten += written;
    if (meta?.size_after) this.totals.sizeAfter = meta.size_after;
  }

  /** The totals so far (a copy). */
  snapshot(): D1Totals {
    return { ...this.totals };
  }

  /** Statements by SQL text, most rows read first (copies: later statements do not change them). */
  statements(): StatementCount[] {
    return [...this.bySql.values()]
      .map((entry) => ({ ...entry }))
      .sort((a, b) => b.rowsRead - a.rowsRead || b.rowsWritten - a.rowsWritten);
  }

  /** Forgets the per-statement figures, keeping the totals. */
  resetStatements(): void {
    this.bySql = new Map();
  }

  reset(): void {
    this.bySql = new Map();
    this.totals = { statements: 0, roundTrips: 0, rowsRead: 0, rowsWritten: 0, sizeAfter: this.totals.sizeAfter };
  }
}

const READ_ONLY = /^\s*(select|with)\b/i;

class CountingStatement {
  constructor(
    private readonly counter: D1Counter,
    readonly inner: D1PreparedStatement,
    readonly sql: string,
  ) {}

  bind(...values: unknown[]): CountingStatement {
    return new CountingStatement(this.counter, this.inner.bind(...values), this.sql);
  }

  async run(): Promise<D1Result> {
    const result = await this.inner.run();
    this.counter.trip();
    this.counter.add(this.sql, result.meta);
    return result;
  }

  async all(): Promise<D1Result> {
    const result = await this.inner.all();
    this.counter.trip();
    this.counter.add(this.sql, result.meta);
    return result;
  }

  async first(column?: string): Promise<unknown> {
    const result = await this.all();
    const row = result.results[0] as Record<string, unknown> | undefined;
    if (row === undefined) return null;
    return column === undefined ? row : row[column];
  }

  async raw(options?: { columnNames?: boolean }): Promise<unknown[][]> {
    if (READ_ONLY.test(this.sql)) {
      await this.all();
      return options?.columnNames ? this.inner.raw({ columnNames: true }) : this.inner.raw();
    }
    const result = await this.all();
    const rows = (result.results as Array<Record<string, unknown>>).map((row) => Object.values(row));
    if (options?.columnNames) return [Object.keys((result.results[0] as object | undefined) ?? {}), ...rows];
    return rows;
  }
}
