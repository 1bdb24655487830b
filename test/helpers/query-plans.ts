/**
 * Query-plan checks: a D1 binding that records every statement it prepares with its bound parameters, and a check
 * that asks D1 for each statement's plan and reports the steps that read a whole watched table (`SCAN t`), or every
 * link of a connection, where an index lookup (`SEARCH t`) is due.
 */
import { env } from "cloudflare:workers";

export interface Recorded {
  sql: string;
  params: unknown[];
}

/** A D1 binding that records each statement it prepares, with the parameters it is bound to. */
export function recordingD1(target: D1Database, recorded: Recorded[]): D1Database {
  return new Proxy(target, {
    get(object, property) {
      if (property === "prepare") {
        return (sql: string) => {
          const statement = object.prepare(sql);
          const bind = statement.bind.bind(statement);
          recorded.push({ sql, params: [] });
          const entry = recorded.at(-1)!;
          statement.bind = (...params: unknown[]) => {
            entry.params = params;
            return bind(...params);
          };
          return statement;
        };
      }
      const value = Reflect.get(object, property);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

export const WATCHED_TABLES = [
  "users",
  "accounts",
  "events",
  "intercom_links",
  "sync_logs",
  "processed_notifications",
  "memberships",
  "pending_links",
  "connections",
  "actions",
  "tag_cache",
  "parked_syncs",
  "dead_letters",
  "import_jobs",
];
const FULL_SCAN = new RegExp(`^SCAN (${WATCHED_TABLES.join("|")})\\b`);
/** Searches that read every row of a connection: as bad as a scan once a connection holds 100,000 contacts. */
const CONNECTION_WIDE =
  /^SEARCH intercom_links USING (?:PRIMARY KEY|INDEX \w+) \(connection_id=\? AND object_type=\?\)$/;

/** The plan steps of a statement that read a whole watched table. */
export async function fullScans(sql: string, params: unknown[]): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((step) => step.detail).filter((detail) => FULL_SCAN.test(detail) || CONNECTION_WIDE.test(detail));
}

/** Every distinct recorded statement that scans a watched table, with its plan steps (one bound instance each). */
export async function scanningStatements(recorded: Recorded[]): Promise<{ checked: number; offenders: string[] }> {
  // drizzle also prepares statements it never binds: keep a bound instance of each.
  const statements = new Map<string, Recorded>();
  for (const entry of recorded)
    if (!statements.has(entry.sql) || entry.params.length > 0) statements.set(entry.sql, entry);
  const offenders: string[] = [];
  for (const { sql, params } of statements.values()) {
    const scans = await fullScans(sql, params);
    if (scans.length > 0) offenders.push(`${scans.join("; ")}  ←  ${sql}`);
  }
  return { checked: statements.size, offenders };
}
