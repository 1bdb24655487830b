import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { writeAccount } from "../src/graph/accounts";
import { linkByLocal, upsertLink } from "../src/graph/links";
import { mergeProperties } from "../src/graph/properties";
import { findUser, writeUser } from "../src/graph/users";

const db = database(env.DB);

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
