/**
 * Building blocks of the generated bad-input suites (issue 8, point 4): a seeded PRNG, a checksum of every D1 table,
 * problem+json checks, and a runner that sends requests in parallel batches and tallies the answers.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/api/app";
import type { Env } from "../../src/env";

/** mulberry32: a small seeded PRNG, so a failing case is the same case on the next run. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  hex(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += "0123456789abcdef"[this.int(0, 15)];
    return out;
  }

  /** Printable noise, sometimes with quotes, backslashes and non-ASCII. */
  text(length: number): string {
    const alphabet = 'abcXYZ019 _-."\\/{}[]:,é漢🙂\u0000\u007f';
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

export interface TableState {
  rows: number;
  sha256: string;
}

/** Row count and SHA-256 of the rows of every table of every database (the control one and each data database). */
export async function d1Snapshot(): Promise<Record<string, TableState>> {
  const snapshot = await tablesSnapshot(env.DB);
  for (const [name, state] of Object.entries(await tablesSnapshot(env.DATA_2))) snapshot[`DATA_2.${name}`] = state;
  return snapshot;
}

/** Row count and SHA-256 of the rows of every table of one database (D1's and SQLite's own excepted), by name. */
async function tablesSnapshot(db: D1Database): Promise<Record<string, TableState>> {
  const { results: tables } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all<{ name: string }>();
  const snapshot: Record<string, TableState> = {};
  for (const { name } of tables) {
    // A caller's own workspace is placed on a data database at its first request: that row is the caller's, not a
    // change to anyone else's data.
    if (name === "placements") continue;
    // Some tables have no rowid (WITHOUT ROWID): the rows are compared in a fixed order of their own.
    const { results } = await db.prepare(`SELECT * FROM "${name}"`).all();
    const rows = results.map((row) => JSON.stringify(row)).sort();
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(rows)));
    snapshot[name] = {
      rows: results.length,
      sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    };
  }
  return snapshot;
}

/** What a response is, for tallies and assertion messages. */
export interface Answer {
  status: number;
  contentType: string | null;
  /** The `Allow` header (405s name the methods the route answers). */
  allow: string | null;
  /** The `WWW-Authenticate` header (401s of the API say how to authenticate). */
  wwwAuthenticate: string | null;
  body: string;
}

export async function answerOf(response: Response): Promise<Answer> {
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    allow: response.headers.get("allow"),
    wwwAuthenticate: response.headers.get("www-authenticate"),
    body: await response.text(),
  };
}

/** Why an answer is not a problem+json body with `type`, `title` and this status; null when it is one. */
export function problemDefect(answer: Answer): string | null {
  if (answer.contentType !== "application/problem+json") return `content-type ${answer.contentType}`;
  let body: { type?: unknown; title?: unknown; status?: unknown };
  try {
    body = JSON.parse(answer.body);
  } catch {
    return "a body that is not JSON";
  }
  if (typeof body.type !== "string" || typeof body.title !== "string") return "no type or title";
  if (body.status !== answer.status) return `status ${String(body.status)} in the body`;
  if (answer.status === 405 && !answer.allow) return "a 405 without Allow";
  return null;
}

/** Runs `tasks` in parallel batches of `size`, keeping their order. */
export async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map((item, i) => run(item, start + i)))));
  }
  return results;
}

/** A count per key, e.g. `{ "401": 900, "400": 420 }`. */
export function tally<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * One request through the Worker's HTTP app (`src/index.ts` serves `app.fetch`) with the real bindings, waiting for
 * its `waitUntil` work. Used instead of `exports.default.fetch` for thousands of requests: on this pool version each
 * call through the loopback binding costs more than the one before (a batch of 25 goes from 25 ms to 3.5 s within
 * 750 calls), while the app itself answers in well under a millisecond.
 */
export async function callApp(request: Request, bindings: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
