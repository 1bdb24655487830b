/**
 * The suite-wide secrets scanner (issue 8, point 6). `test/setup.ts` installs one `LeakRecorder` per test file: every
 * console line of the isolate (routes, queue consumers, Durable Objects, the simulator) and every response of the
 * connector (through `exports.default.fetch`, the msw proxy of https://connector.test, or `app.request`/`app.fetch`)
 * is recorded with the test that was running; after the file, the recorder and a raw dump of D1 are searched for
 * the test secrets in every form they could leak in, and for anything shaped like a simulator access token.
 */
import { base64url } from "jose";

export interface Recorded {
  /** `console.warn`, `response GET /v1/connections 200`, `d1 connections`… */
  source: string;
  /** The test file and test that were running, when known. */
  where: string;
  text: string;
}

export interface Leak {
  secret: string;
  where: string;
  source: string;
  /** The text around the match, the secret itself replaced by `[LEAKED]`. */
  excerpt: string;
}

/** The simulator's access tokens: base64 of `tok:…` (test/intercom-sim/ids.ts), in base64 or base64url. */
export const SIM_TOKEN_PATTERN = /dG9rO[A-Za-z0-9+/_-]{12,}={0,2}/g;

/** A secret and the forms it could leak in: raw, URL-encoded, base64 and base64url. */
export function secretForms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  return [
    ...new Set([secret, encodeURIComponent(secret), btoa(String.fromCharCode(...bytes)), base64url.encode(bytes)]),
  ];
}

/** The fixed secrets of the test bindings (vitest.config.ts); TOKEN_ENCRYPTION_KEY is `kid:key[,…]`. */
export function bindingSecrets(bindings: {
  INTERCOM_CLIENT_SECRET?: string;
  ADMIN_JWT_SECRET?: string;
  TOKEN_ENCRYPTION_KEY?: string;
}): Record<string, string> {
  const secrets: Record<string, string> = {};
  if (bindings.INTERCOM_CLIENT_SECRET) secrets.INTERCOM_CLIENT_SECRET = bindings.INTERCOM_CLIENT_SECRET;
  if (bindings.ADMIN_JWT_SECRET) secrets.ADMIN_JWT_SECRET = bindings.ADMIN_JWT_SECRET;
  for (const [i, entry] of (bindings.TOKEN_ENCRYPTION_KEY ?? "").split(",").entries()) {
    const key = entry.slice(entry.indexOf(":") + 1).trim();
    if (key) secrets[`TOKEN_ENCRYPTION_KEY#${i}`] = key;
  }
  return secrets;
}

/** Console arguments as one line of text: objects as JSON (errors with their message, stack and cause). */
export function formatArgs(args: readonly unknown[]): string {
  return args.map((arg) => (typeof arg === "string" ? arg : stringify(arg))).join(" ");
}

function stringify(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, item: unknown) => {
        if (typeof item === "bigint") return `${item}n`;
        if (item instanceof Error)
          return { name: item.name, message: item.message, stack: item.stack, cause: item.cause };
        if (typeof item === "object" && item !== null) {
          if (seen.has(item)) return "[Circular]";
          seen.add(item);
        }
        return item;
      }) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

export class LeakRecorder {
  readonly items: Recorded[] = [];

  constructor(private readonly whereNow: () => string = () => "") {}

  record(source: string, text: string, where = this.whereNow()): void {
    this.items.push({ source, where, text });
  }

  /**
   * Records a response's status line, headers and body, read from a clone before the response is handed on: a body
   * read later, from another request's context, could hang (workerd ties I/O objects to the request that made them).
   */
  async recordResponse(label: string, response: Response): Promise<void> {
    const where = this.whereNow();
    const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
    let body: string;
    try {
      body = await response.clone().text();
    } catch (error) {
      body = `[body unreadable: ${String(error)}]`;
    }
    this.record(`response ${label} ${response.status}`, `${headers}\n\n${body}`, where);
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Every recorded item holding one of `secrets` (in any form) or a simulator access token. */
  leaks(secrets: Record<string, string>): Leak[] {
    return findLeaks(this.items, secrets);
  }
}

/** Searches `items` for the secrets (every form) and for simulator-shaped access tokens. */
export function findLeaks(items: readonly Recorded[], secrets: Record<string, string>): Leak[] {
  const needles = Object.entries(secrets).flatMap(([name, secret]) =>
    secretForms(secret).map((form) => ({ name, form })),
  );
  const leaks: Leak[] = [];
  for (const item of items) {
    for (const { name, form } of needles) {
      const at = item.text.indexOf(form);
      if (at >= 0)
        leaks.push({
          secret: name,
          where: item.where,
          source: item.source,
          excerpt: excerpt(item.text, at, form.length),
        });
    }
    for (const match of item.text.matchAll(SIM_TOKEN_PATTERN)) {
      leaks.push({
        secret: "an Intercom access token",
        where: item.where,
        source: item.source,
        excerpt: excerpt(item.text, match.index, match[0].length),
      });
    }
  }
  return leaks;
}

function excerpt(text: string, at: number, length: number): string {
  const before = text.slice(Math.max(0, at - 80), at);
  const after = text.slice(at + length, at + length + 80);
  return `${before}[LEAKED]${after}`.replace(/\s+/g, " ");
}

/** One line per leak, for an assertion message. */
export function describeLeaks(leaks: readonly Leak[]): string {
  return leaks.map((leak) => `${leak.where} — ${leak.source} holds ${leak.secret}: …${leak.excerpt}…`).join("\n");
}

export const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;
type ConsoleMethod = (typeof CONSOLE_METHODS)[number];

/**
 * Records every console call into `recorder`. With `passThrough` (the suite's recorder) the line is printed as
 * before; without it (a test's own recorder) it goes nowhere else. Returns the function that restores the console.
 */
export function captureConsole(recorder: LeakRecorder, options: { passThrough: boolean }): () => void {
  const originals = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  for (const method of CONSOLE_METHODS) {
    const original = console[method];
    originals.set(method, original);
    console[method] = (...args: unknown[]) => {
      recorder.record(`console.${method}`, formatArgs(args));
      if (options.passThrough) original.apply(console, args);
    };
  }
  return () => {
    for (const [method, original] of originals) console[method] = original;
  };
}

type FetchLike = (request: Request, ...rest: any[]) => Response | Promise<Response>;

/** Wraps `target[key]` (a fetch handler) so each response it gives is recorded; returns the function that unwraps it. */
export function captureResponses<T extends object, K extends keyof T>(
  recorder: LeakRecorder,
  target: T,
  key: K,
): () => void {
  const original = target[key] as unknown as FetchLike;
  const wrapped: FetchLike = async (request, ...rest) => {
    const response = await original(request, ...rest);
    const url = new URL(request.url, "http://local");
    await recorder.recordResponse(`${request.method} ${url.pathname}`, response);
    return response;
  };
  (target as Record<K, unknown>)[key] = wrapped;
  return () => {
    (target as Record<K, unknown>)[key] = original;
  };
}

/** Every row of every D1 table (but D1's and SQLite's own), one recorded item per table. */
export async function dumpD1(db: D1Database): Promise<Recorded[]> {
  const { results: tables } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'",
    )
    .all<{ name: string }>();
  const items: Recorded[] = [];
  for (const { name } of tables) {
    const { results } = await db.prepare(`SELECT * FROM "${name}"`).all();
    items.push({ source: `d1 ${name}`, where: "D1 at the end of the file", text: JSON.stringify(results) });
  }
  return items;
}

/** Where test/setup.ts keeps the running file's scanner (on `globalThis`, so a reused isolate finds it to undo). */
export const SCANNER_KEY = Symbol.for("intercom-connector.leak-scanner");

export interface Scanner {
  recorder: LeakRecorder;
  restore: Array<() => void>;
}

/** The suite's recorder of the running test file (installed by test/setup.ts). */
export function suiteRecorder(): LeakRecorder {
  const scanner = (globalThis as { [SCANNER_KEY]?: Scanner })[SCANNER_KEY];
  if (!scanner) throw new Error("the secrets scanner is not installed (test/setup.ts)");
  return scanner.recorder;
}
