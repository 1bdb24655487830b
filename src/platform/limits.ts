/**
 * The Cloudflare platform limits that production enforces and local workerd does not (or does with an opaque error),
 * and the error the platform-limits layer throws when code crosses one. See README, "Platform limits".
 */

/** Each limit the layer checks: its maximum and what it counts. Sources: Cloudflare's D1, Workers and Queues limits. */
export const PLATFORM_LIMITS = {
  /** D1: arguments of one SQL function call (SQLITE_MAX_FUNCTION_ARG on D1). */
  "d1.function_arguments": { max: 32, counts: "arguments of one SQL function call" },
  /** D1: bound parameters of one statement (local D1 refuses too, with SQLite's own message). */
  "d1.bound_parameters": { max: 100, counts: "bound parameters of one statement" },
  /** D1: UTF-8 bytes of one statement's SQL text (local D1 refuses too). */
  "d1.statement_bytes": { max: 100_000, counts: "bytes of SQL text" },
  /** D1: one bound string or blob; SQLite's maximum string, BLOB or row size on D1 is 2,000,000 bytes. */
  "d1.value_bytes": { max: 2_000_000, counts: "bytes of one bound value" },
  /**
   * D1 rows ≤ 2,000,000 bytes, checked through what can be seen before the statement runs: the bytes bound to one
   * INSERT/UPDATE/REPLACE. A single-row write of bound values cannot store a bigger row than this; it misses a row
   * that grows by SQL over what it already holds (json_set on a stored column) and over-counts multi-row inserts.
   */
  "d1.write_bound_bytes": { max: 2_000_000, counts: "bytes bound to one INSERT/UPDATE (stands in for row size)" },
  /** D1: queries per Worker invocation, each statement of a batch counted (Workers Paid). */
  "d1.queries": { max: 1_000, counts: "D1 queries in one invocation" },
  /** Workers: subrequests per invocation (fetches, Durable Object calls, D1 and queue calls; see README). */
  "workers.subrequests": { max: 10_000, counts: "subrequests in one invocation" },
  /** Queues: one message, as JSON UTF-8 bytes. */
  "queues.message_bytes": { max: 128_000, counts: "bytes of one queue message (JSON)" },
  /** Queues: messages in one `sendBatch`. */
  "queues.batch_messages": { max: 100, counts: "messages in one sendBatch" },
  /** Queues: total bytes of one `sendBatch`, as JSON UTF-8 bytes. */
  "queues.batch_bytes": { max: 256_000, counts: "bytes of one sendBatch (JSON)" },
  /** Queues: messages in one consumer batch (`max_batch_size` cannot exceed it). */
  "queues.consumer_batch": { max: 100, counts: "messages in one consumer batch" },
} as const;

export type PlatformLimit = keyof typeof PLATFORM_LIMITS;

/**
 * Production waits, rather than fails, when more fetches than this wait for response headers at once: the layer
 * records the peak and logs a warning (see `InvocationBudget.fetchStarted`).
 */
export const MAX_CONNECTIONS_WAITING_FOR_HEADERS = 6;

/** Code crossed a production limit: which one, the count reached, the maximum, and the statement or call. */
export class PlatformLimitError extends Error {
  override readonly name = "PlatformLimitError";

  constructor(
    readonly limit: PlatformLimit,
    readonly count: number,
    readonly max: number,
    /** The statement (truncated SQL text, never parameter values) or the call (binding and method, URL path). */
    readonly what: string,
  ) {
    super(`platform limit ${limit} crossed: ${count} > ${max} (${PLATFORM_LIMITS[limit].counts}) at ${what}`);
  }
}

const MAX_SQL_SHOWN = 200;

/** SQL text fit for an error message: whitespace collapsed, truncated. Bound values never appear in it. */
export function describeSql(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > MAX_SQL_SHOWN ? `${flat.slice(0, MAX_SQL_SHOWN)}…` : flat;
}

/** UTF-8 byte length of `text`, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair: 4 bytes for 2 UTF-16 units.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}
