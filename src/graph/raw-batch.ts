/**
 * Raw statements for one D1 batch, written with drizzle's `sql` template (parameters bound, never spliced), and their
 * rows read back as the schema's row types. drizzle 0.45's own `db.batch` cannot bind the parameters of a raw
 * statement (`db.run(sql…)`), and an UPDATE … FROM a MATERIALIZED CTE has no query-builder form.
 */
import { getTableColumns, type SQL } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";

const dialect = new SQLiteAsyncDialect();

/** `query` as a D1 statement with its parameters bound. */
export function prepareSql(db: Database, query: SQL): D1PreparedStatement {
  const { sql, params } = dialect.sqlToQuery(query);
  return db.$client.prepare(sql).bind(...params);
}

/** The first row of a `SELECT *` on `table`, typed and decoded (JSON columns parsed) as drizzle's own selects are. */
export function firstRow<T extends SQLiteTable>(table: T, result: D1Result): T["$inferSelect"] | null {
  const raw = result.results[0] as Record<string, unknown> | undefined;
  if (!raw) return null;
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T["$inferSelect"];
}
