// The platform-limits layer (src/platform/): production's D1, Queues and Workers limits, which local workerd does
// not enforce (or enforces with an opaque error), fail here with a PlatformLimitError naming the limit, the count and
// the statement or call. On in every test (vitest.pool.ts); test/setup.ts fails any test that crosses one.
import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { delay, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { database } from "../src/db/client";
import type { Env } from "../src/env";
import { upsertLink } from "../src/graph/links";
import worker, { RateBudget } from "../src/index";
import { RateBudget as RateBudgetObject, rateBudgetObject } from "../src/intercom/rate-budget";
import { limitedEnv, limitsEnforced } from "../src/platform/env";
import { currentBudget, runInvocation, takePlatformLimitViolations } from "../src/platform/invocation";
import { type PlatformLimit, PlatformLimitError } from "../src/platform/limits";
import { limitedQueue } from "../src/platform/queue";
import { widestFunctionCall } from "../src/platform/sql-scan";
import { seedConnection } from "./helpers/connections";
import { fixture, type Item, intercomId } from "./helpers/webhooks";

const ORIGIN = "https://limits.test";
const server = setupServer(
  http.all(`${ORIGIN}/*`, async () => {
    await delay(30);
    return HttpResponse.json({ ok: true });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

/** A value no error message may contain: bound values can be personal data or tokens. */
const SECRET = "secret-value-that-must-not-be-printed";

/** Runs `work` as one invocation with the limited env. */
function invocation<T>(work: (limited: Env) => Promise<T>): Promise<T> {
  return runInvocation("test", async () => work(limitedEnv(env)));
}

/** The PlatformLimitError `work` rejects with (also as the cause of drizzle's query error); takes it off the record. */
async function limitError(work: Promise<unknown>, limit: PlatformLimit): Promise<PlatformLimitError> {
  const error = await work.then(
    () => expect.fail(`expected ${limit} to be crossed`),
    (reason: unknown) => reason,
  );
  const found = error instanceof PlatformLimitError ? error : (error as { cause?: unknown }).cause;
  expect(found).toBeInstanceOf(PlatformLimitError);
  const crossed = found as PlatformLimitError;
  expect(crossed.limit).toBe(limit);
  expect(crossed.message).not.toContain(SECRET);
  expect(takePlatformLimitViolations().map((recorded) => recorded.limit)).toContain(limit);
  return crossed;
}

const list = (count: number, item: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => item(i)).join(", ");

describe("the SQL scanner", () => {
  it("finds the widest call, counting top-level commas only", () => {
    expect(widestFunctionCall("select coalesce(a, max(b, c, d), 'x,y)', \"q(,)\") from t")).toEqual({
      name: "coalesce",
      args: 4,
    });
    expect(widestFunctionCall("select count(*), random(), f(1 /* ,, */, 2) -- g(1, 2, 3)\nfrom t")).toEqual({
      name: "f",
      args: 2,
    });
    expect(widestFunctionCall("SELECT JSON_OBJECT('it''s, (a)', ?, 'b', ?)")).toEqual({ name: "json_object", args: 4 });
  });

  it("does not take IN lists, VALUES, column lists or conflict targets for calls", () => {
    const insert = `insert into t (${list(40, (i) => `c${i}`)}) values (${list(40, () => "?")})
      on conflict (${list(35, (i) => `c${i}`)}) do update set c0 = json(?) where c1 in (${list(50, () => "?")})
      and exists (select 1) and (c2, c3) = (?, ?)`;
    expect(widestFunctionCall(insert)).toEqual({ name: "json", args: 1 });
    expect(widestFunctionCall("select 1 from t where x in (1, 2, 3)")).toBeNull();
  });

  it("sees the links upsert stay the same statement whatever the number of keys (one JSON parameter)", () => {
    const db = database(env.DB);
    const link = (keys: number) =>
      upsertLink(db, {
        connectionId: "c",
        objectType: "contact",
        localPk: 1,
        intercomId: "i",
        remoteState: Object.fromEntries(Array.from({ length: keys }, (_, i) => [`custom_attributes.a${i}`, i])),
      }).toSQL();
    const narrow = link(3);
    const wide = link(150);
    expect(wide.sql).toBe(narrow.sql);
    expect(wide.params).toHaveLength(narrow.params.length);
    expect(widestFunctionCall(wide.sql)!.args).toBeLessThanOrEqual(2);
  });
});

describe("a known offender, fixed", () => {
  it("links merge a wide remote state (120 keys) in one statement, keeping known nulls and replacing whole values", async () => {
    const wide = (version: number) =>
      Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`custom_attributes.field ${i}`, `v${version}-${i}`]));
    const write = (remoteState: Record<string, unknown>) =>
      invocation((limited) =>
        upsertLink(database(limited.DB), {
          connectionId: "limits-links",
          objectType: "contact",
          localPk: 1,
          intercomId: "contact-1",
          remoteState,
        }),
      );
    await write({ ...wide(1), name: "Ada", phone: null, tags: ["a"], location: { city: "Paris", country: "FR" } });
    await write({
      ...wide(2),
      name: null,
      unsubscribed: false,
      location: { city: "Lyon" },
      score: 0.30000000000000004,
    });
    const row = await env.DB.prepare(
      "select remote_state from intercom_links where connection_id = 'limits-links'",
    ).first<{
      remote_state: string;
    }>();
    expect(JSON.parse(row!.remote_state)).toEqual({
      ...wide(2),
      name: null,
      phone: null,
      tags: ["a"],
      unsubscribed: false,
      location: { city: "Lyon" },
      score: 0.30000000000000004,
    });
  });
});

describe("the layer", () => {
  it("is on in tests, and wraps the Durable Objects' env", async () => {
    expect(limitsEnforced(env)).toBe(true);
    expect(RateBudget).not.toBe(RateBudgetObject);
    const stub = rateBudgetObject(env, "limits-test");
    await runInDurableObject(stub, (instance) => {
      expect(instance).toBeInstanceOf(RateBudgetObject);
      const objectEnv = (instance as unknown as { env: Env }).env;
      expect(objectEnv.DB).not.toBe(env.DB);
      expect(objectEnv.PLATFORM_LIMITS).toBe("enforce");
    });
  });
});

describe("D1 through the layer", () => {
  it("refuses a SQL function call with 33 arguments and runs one with 32", async () => {
    const args = (count: number) => list(count, (i) => `'a${i}'`);
    const ok = await invocation((limited) => limited.DB.prepare(`select coalesce(${args(32)}) as v`).first("v"));
    expect(ok).toBe("a0");
    const error = await limitError(
      invocation((limited) => limited.DB.prepare(`select coalesce(${args(33)}) as v`).first()),
      "d1.function_arguments",
    );
    expect(error).toMatchObject({ count: 33, max: 32 });
    expect(error.what).toMatch(/^coalesce\(…\) in "select coalesce\('a0', 'a1'/);
  });

  it("refuses 101 bound parameters, naming the statement but no value", async () => {
    const placeholders = (count: number) => list(count, () => "?");
    const values = (count: number) => Array.from({ length: count }, () => SECRET);
    const ok = await invocation((limited) =>
      limited.DB.prepare(`select count(*) as n from users where email in (${placeholders(100)})`)
        .bind(...values(100))
        .first("n"),
    );
    expect(ok).toBe(0);
    const error = await limitError(
      invocation((limited) =>
        limited.DB.prepare(`select count(*) as n from users where email in (${placeholders(101)})`)
          .bind(...values(101))
          .first(),
      ),
      "d1.bound_parameters",
    );
    expect(error).toMatchObject({ count: 101, max: 100 });
    expect(error.what).toContain("select count(*) as n from users where email in (?, ?");
  });

  it("refuses statements over 100 KB, values over 2 MB, and writes binding over 2 MB", async () => {
    const long = `select 1 as v where 'x' <> '${"y".repeat(100_000)}'`;
    expect(
      (
        await limitError(
          invocation((limited) => limited.DB.prepare(long).first()),
          "d1.statement_bytes",
        )
      ).count,
    ).toBe(long.length);
    const big = "z".repeat(2_000_001);
    await limitError(
      invocation((limited) => limited.DB.prepare("select length(?) as n").bind(big).first()),
      "d1.value_bytes",
    );
    const half = "é".repeat(600_000); // 1.2 MB in UTF-8
    const error = await limitError(
      invocation((limited) =>
        limited.DB.prepare("insert into dead_letters (queue, body, message_id, created_at) values (?, ?, ?, ?)")
          .bind(half, half, SECRET, 1)
          .run(),
      ),
      "d1.write_bound_bytes",
    );
    expect(error.count).toBe(2_400_000 + SECRET.length + 8);
  });

  it("refuses the 1,001st query of one invocation, each batch statement counted; the next invocation starts afresh", async () => {
    const error = await limitError(
      invocation(async (limited) => {
        for (let i = 0; i < 1_000; i++) await limited.DB.prepare("select ? as v").bind(i).first();
        expect(currentBudget()!.queries).toBe(1_000);
        await limited.DB.prepare("select 1001 as v").first();
      }),
      "d1.queries",
    );
    expect(error).toMatchObject({ count: 1_001, max: 1_000, what: "select 1001 as v" });

    const statements = (limited: Env, count: number) =>
      Array.from({ length: count }, (_, i) => limited.DB.prepare("select ? as v").bind(i));
    const batched = await limitError(
      invocation(async (limited) => {
        expect(await limited.DB.batch(statements(limited, 600))).toHaveLength(600);
        await limited.DB.batch(statements(limited, 401));
      }),
      "d1.queries",
    );
    expect(batched.count).toBe(1_001);
    expect(batched.what).toBe('batch of 401, first "select ? as v"');
    // A new invocation has a new budget.
    await invocation(async (limited) => expect(await limited.DB.batch(statements(limited, 600))).toHaveLength(600));
  });

  it("checks what drizzle prepares, binds and batches, and D1 sessions", async () => {
    const wide = sql.raw(`select coalesce(${list(40, (i) => `${i}`)}) as v`);
    await limitError(
      invocation((limited) => database(limited.DB).all(wide)),
      "d1.function_arguments",
    );
    const inList = sql`select 1 as v where 1 in (${sql.join(
      Array.from({ length: 101 }, () => sql`${SECRET}`),
      sql`, `,
    )})`;
    await limitError(
      invocation((limited) => database(limited.DB).all(inList)),
      "d1.bound_parameters",
    );
    const counted = await invocation(async (limited) => {
      const db = database(limited.DB);
      await db.batch([db.all(sql`select 1 as v`), db.all(sql`select 2 as v`), db.all(sql`select 3 as v`)]);
      return currentBudget()!.queries;
    });
    expect(counted).toBe(3);
    await limitError(
      invocation((limited) =>
        limited.DB.withSession("first-primary")
          .prepare(`select coalesce(${list(33, (i) => `${i}`)})`)
          .first(),
      ),
      "d1.function_arguments",
    );
  });
});

describe("queues through the layer", () => {
  /** A message body of `bytes` bytes as JSON. */
  const body = (bytes: number) => ({ padding: "p".repeat(bytes - '{"padding":""}'.length) });

  it("refuses a 129 KB message and a sendBatch of 101 messages or 257 KB, before sending anything", async () => {
    const message = await limitError(
      invocation((limited) => limited.INBOUND.send(body(129_000) as never)),
      "queues.message_bytes",
    );
    expect(message).toMatchObject({ count: 129_000, max: 128_000, what: "INBOUND.send" });

    const many = Array.from({ length: 101 }, () => ({ body: body(100) as never }));
    expect(
      await limitError(
        invocation((limited) => limited.OUTBOUND.sendBatch(many)),
        "queues.batch_messages",
      ),
    ).toMatchObject({ count: 101, max: 100, what: "OUTBOUND.sendBatch" });

    const heavy = Array.from({ length: 3 }, () => ({ body: body(85_667) as never }));
    expect(
      await limitError(
        invocation((limited) => limited.INBOUND.sendBatch(heavy)),
        "queues.batch_bytes",
      ),
    ).toMatchObject({ count: 257_001, max: 256_000, what: "INBOUND.sendBatch of 3 messages" });
  });

  it("passes a sendBatch of 100 messages and 256,000 bytes, and a 128,000-byte message, through unchanged", async () => {
    const sent: unknown[] = [];
    const recording = {
      send: async (message: unknown) => void sent.push(message),
      sendBatch: async (messages: unknown) => void sent.push(messages),
    } as unknown as Queue<never>;
    const queue = limitedQueue(recording, "RECORDING");
    const full = Array.from({ length: 100 }, () => ({ body: body(2_560) as never }));
    await invocation(async () => {
      await queue.sendBatch(full);
      await queue.send(body(128_000) as never);
      expect(currentBudget()!.subrequests).toBe(2);
    });
    expect(sent).toEqual([full, body(128_000)]);
  });

  it("fails a consumer batch of more than 100 messages", async () => {
    const messages = Array.from({ length: 101 }, (_, i) => ({
      id: `m${i}`,
      timestamp: new Date(),
      attempts: 1,
      body: {},
    }));
    const batch = createMessageBatch("intercom-inbound-dlq", messages);
    const error = await limitError(worker.queue(batch, env, createExecutionContext()), "queues.consumer_batch");
    expect(error).toMatchObject({ count: 101, max: 100 });
  });
});

describe("a real consumer invocation", () => {
  /** An INBOUND batch of `size` new contacts of one connection, as the ack path enqueues them. */
  async function newContacts(size: number) {
    const connection = await seedConnection({ workspaceId: `ws_${crypto.randomUUID().slice(0, 8)}` });
    const messages = Array.from({ length: size }, (_, i) => {
      const item: Item = { ...fixture("contact.user.created").data.item, id: intercomId() };
      item.external_id = `limits-${i}-${crypto.randomUUID().slice(0, 6)}`;
      item.email = `${item.external_id}@example.com`;
      const notification = { id: `notif_${crypto.randomUUID()}`, topic: "contact.user.created", created_at: 1, item };
      return {
        id: `msg-${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { received_at: Date.now(), app_id: connection.appId, notification },
      };
    });
    return createMessageBatch("intercom-inbound", messages);
  }

  it("captures the configured batch (25 new contacts) within the limits", async () => {
    const batch = await newContacts(25);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(25);
  });

  // A queue batch is decided as a whole (src/source/consumer.ts): its reads are bulk and its writes joined, so even the
  // platform's largest consumer batch of new contacts stays under 1,000 queries. The INBOUND consumer's max_batch_size
  // stays at 25 anyway: a mix with attachments writes more, and a failed joined commit is retried message by message.
  it("captures 100 new contacts in one batch without crossing 1,000 D1 queries", async () => {
    const batch = await newContacts(100);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(100);
    expect(takePlatformLimitViolations()).toEqual([]);
  });
});

describe("subrequests and connections", () => {
  it("counts fetches, Durable Object calls and D1 calls as subrequests; the query string stays out", async () => {
    const counted = await invocation(async (limited) => {
      await fetch(`${ORIGIN}/one`);
      await rateBudgetObject(limited, "limits-subrequests").reserve();
      await limited.DB.prepare("select 1").first();
      return currentBudget()!.subrequests;
    });
    expect(counted).toBe(3);

    const error = await limitError(
      invocation(async () => {
        currentBudget()!.subrequests = 10_000;
        await fetch(`${ORIGIN}/contacts/search?email=${SECRET}`);
      }),
      "workers.subrequests",
    );
    expect(error).toMatchObject({ count: 10_001, max: 10_000, what: `fetch GET ${ORIGIN}/contacts/search` });
  });

  it("records 8 fetches waiting for headers at once and warns, without failing (production queues the 7th)", async () => {
    const warn = vi.spyOn(console, "warn");
    const peak = await invocation(async () => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${ORIGIN}/parallel/${i}`)));
      return currentBudget()!.peakWaitingFetches;
    });
    expect(peak).toBe(8);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ level: "warn", waiting: 7, max: 6 }));
    warn.mockRestore();
  });
});
