import { env } from "cloudflare:workers";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../src/db/schema";

// The migrations in migrations/ are generated from src/db/schema.ts (`npm run db:generate`). This test applies
// them (test/setup.ts) and compares the resulting D1 schema with the drizzle schema: a change to schema.ts
// without a regenerated migration, or a hand edit of a migration, fails here.

const tables: SQLiteTable[] = Object.values(schema as Record<string, unknown>).filter(
  (value): value is SQLiteTable => value instanceof SQLiteTable,
);

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

describe("schema drift", () => {
  it("the migrated D1 database has exactly the tables of src/db/schema.ts", async () => {
    const { results } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
    ).all<{ name: string }>();
    expect(results.map((row) => row.name).sort()).toEqual(tables.map((table) => getTableConfig(table).name).sort());
  });

  for (const table of tables) {
    const config = getTableConfig(table);
    it(`table ${config.name}: columns, types, nullability and indexes match`, async () => {
      const { results: columns } = await env.DB.prepare(`PRAGMA table_info("${config.name}")`).all<ColumnInfo>();
      const actual = columns.map((c) => ({
        name: c.name,
        type: c.type.toLowerCase(),
        notNull: c.notnull === 1 || c.pk > 0,
      }));
      const expected = config.columns.map((c) => ({
        name: c.name,
        type: c.getSQLType().toLowerCase(),
        notNull: c.notNull || c.primary,
      }));
      expect(sortByName(actual)).toEqual(sortByName(expected));

      const { results: indexes } = await env.DB.prepare(`PRAGMA index_list("${config.name}")`).all<{
        name: string;
        unique: number;
        origin: string;
      }>();
      const declared = indexes.filter((index) => index.origin === "c");
      const actualIndexes = await Promise.all(
        declared.map(async (index) => {
          const { results: cols } = await env.DB.prepare(`PRAGMA index_info("${index.name}")`).all<{ name: string }>();
          return { name: index.name, unique: index.unique === 1, columns: cols.map((col) => col.name) };
        }),
      );
      const expectedIndexes = config.indexes.map((index) => ({
        name: index.config.name,
        unique: index.config.unique,
        columns: index.config.columns.map((column) => (column as { name: string }).name),
      }));
      expect(sortByName(actualIndexes)).toEqual(sortByName(expectedIndexes));
    });
  }
});

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}
