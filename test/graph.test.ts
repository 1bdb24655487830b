import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { writeAccount } from "../src/graph/accounts";
import { linkByLocal, upsertLink } from "../src/graph/links";
import { mergeProperties, propertiesBytes } from "../src/graph/properties";
import { mergedPropertiesSql } from "../src/graph/property-merge-sql";
import { findUser, writeUser } from "../src/graph/users";
import { Rng } from "./helpers/robustness";

const db = database(env.DB);

/** Keys for generated bags: a few collide on purpose; odd ones too. */
const KEYS = ["a", "b", "c", "plan", "1", "__proto__", "é", "k.dot", 'q"uote'];

describe("identity graph", () => {
  it("merges properties with null removing a key and reports no change for a no-op", async () => {
    expect(mergeProperties({ plan: "pro", seats: 3 }, { seats: null, plan: "pro" })).toEqual({ plan: "pro" });
    const first = await writeUser(
      db,
      "ws_graph",
      { userId: "u1" },
      { properties: { plan: "pro", seats: 3 } },
      { create: true },
    );
    expect(first).toMatchObject({ before: null, changed: true });
    const second = await writeUser(
      db,
      "ws_graph",
      { userId: "u1" },
      { properties: { seats: null, plan: "pro" } },
      { create: true },
    );
    expect(second).toMatchObject({ changed: true, user: { properties: { plan: "pro" } } });
    const third = await writeUser(
      db,
      "ws_graph",
      { userId: "u1" },
      { properties: { plan: "pro" }, segments: [] },
      { create: true },
    );
    expect(third).toMatchObject({ changed: false, user: { version: second!.user.version } });
  });

  it("the SQL merge (json_patch) and its TypeScript model agree, nested objects, nulls, arrays and odd keys included", async () => {
    const rng = new Rng(19);
    const value = (depth: number): unknown => {
      const kind = rng.int(0, depth > 2 ? 4 : 6);
      if (kind === 0) return null;
      if (kind === 1) return rng.int(-5, 5) / (rng.chance(0.5) ? 1 : 4);
      if (kind === 2) return rng.text(rng.int(0, 6));
      if (kind === 3) return rng.chance(0.5);
      if (kind === 4) return [value(depth + 1), null];
      return Object.fromEntries(Array.from({ length: rng.int(0, 3) }, () => [rng.pick(KEYS), value(depth + 1)]));
    };
    const bag = () => Object.fromEntries(Array.from({ length: rng.int(0, 6) }, () => [rng.pick(KEYS), value(0)]));
    for (let round = 0; round < 60; round++) {
      const stored = mergeProperties({}, bag());
      const patch = bag();
      const query = new SQLiteAsyncDialect().sqlToQuery(
        sql`SELECT ${mergedPropertiesSql(sql`${JSON.stringify(stored)}`, patch)} AS merged`,
      );
      const { results } = await env.DB.prepare(query.sql)
        .bind(...query.params)
        .all<{ merged: string }>();
      const expected = mergeProperties(stored, patch);
      expect(JSON.parse(results[0]!.merged), JSON.stringify({ stored, patch })).toEqual(expected);
      expect(new TextEncoder().encode(results[0]!.merged).byteLength).toBe(propertiesBytes(expected));
    }
  });

  it("concurrent writers of one user lose no property", async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        writeUser(
          db,
          "ws_graph",
          { userId: "racer" },
          { properties: { [`p${i}`]: i } },
          {
            create: true,
          },
        ),
      ),
    );
    const user = await findUser(db, "ws_graph", { userId: "racer" });
    expect(Object.keys(user!.properties)).toHaveLength(20);
  });

  it("concurrent first writes of an email-only user create one row", async () => {
    await Promise.all(
      Array.from({ length: 10 }, () =>
        writeUser(
          db,
          "ws_graph",
          { email: "Solo@Example.com" },
          {},
          {
            create: true,
          },
        ),
      ),
    );
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email = ?")
      .bind("solo@example.com")
      .first();
    expect(rows!.n).toBe(1);
  });

  it("an identity with user_id adopts the email-only user of the same email", async () => {
    await writeUser(
      db,
      "ws_graph",
      { email: "adopt@example.com" },
      {},
      {
        create: true,
      },
    );
    const write = await writeUser(
      db,
      "ws_graph",
      { userId: "adopt", email: "adopt@example.com" },
      {},
      { create: true },
    );
    expect(write!.before).not.toBeNull();
    expect(write!.user.userId).toBe("adopt");
  });

  it("does not create when creation is off", async () => {
    expect(await writeUser(db, "ws_graph", { userId: "nobody" }, {}, { create: false })).toBeNull();
    expect(await writeAccount(db, "ws_graph", "acme", {}, { create: false })).toBeNull();
  });

  it("link remote state merges per key and keeps a known null", async () => {
    await upsertLink(db, {
      connectionId: "c1",
      objectType: "contact",
      localPk: 1,
      intercomId: "ic1",
      remoteState: { name: "A", phone: "1" },
      remoteUpdatedAt: 2000,
    });
    await upsertLink(db, {
      connectionId: "c1",
      objectType: "contact",
      localPk: 1,
      intercomId: "ic1",
      remoteState: { phone: null, "custom_attributes.plan": "pro" },
      remoteUpdatedAt: 1000,
    });
    const link = await linkByLocal(db, "c1", "contact", 1);
    expect(link!.remoteState).toEqual({ name: "A", phone: null, "custom_attributes.plan": "pro" });
    expect(link!.remoteUpdatedAt).toBe(2000);
  });
});
