import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders } from "./helpers/auth";
import { connectionRow, connectViaApi, seedConnection } from "./helpers/connections";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();
const BASE = "https://connector.test";

async function patch(id: string, body: unknown, workspaceId = "ws_test") {
  const res = await exports.default.fetch(`${BASE}/v1/connections/${id}`, {
    method: "PATCH",
    headers: await authHeaders({ workspaceId, scope: "admin" }),
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
}

const paths = (body: { errors?: Array<{ path: string }> }) => (body.errors ?? []).map((e) => e.path).sort();

describe("PATCH /v1/connections/:id: partial", () => {
  it("changes only the keys sent and bumps updated_at", async () => {
    const row = await seedConnection();
    const res = await patch(row.id, {
      name: "Renamed",
      source: { capture_chat_events: false },
      destination: { enabled: true, segments: ["vip", "trial", "vip"] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Renamed",
      source: { enabled: true, capture_chat_events: false, capture_user_events: true, capture_relationships: true },
      destination: {
        enabled: true,
        segments: ["vip", "trial"],
        allow_create: false,
        mappings: { contact: [], company: [] },
      },
    });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(row.updatedAt);
    const again = await patch(row.id, { destination: { allow_create: true } });
    expect(again.body.destination).toEqual({
      enabled: true,
      segments: ["vip", "trial"],
      allow_create: true,
      mappings: { contact: [], company: [] },
      on_erase: "none",
      clear_removed: false,
    });
    expect(again.body.name).toBe("Renamed");
    expect((await patch(row.id, {})).body).toMatchObject({ name: "Renamed", destination: { allow_create: true } });
  });

  it("concurrent PATCHes of different fields all land (compare-and-set on version)", async () => {
    const row = await seedConnection();
    const changes = [
      { name: "N" },
      { source: { capture_chat_events: false } },
      { source: { capture_user_events: false } },
      { source: { capture_relationships: false } },
      { destination: { enabled: true } },
      { destination: { allow_create: true } },
      { destination: { segments: ["s"] } },
      { destination: { mappings: { contact: [{ from: "phone_number", to: "phone" }] } } },
    ];
    const results = await Promise.all(changes.map((change) => patch(row.id, change)));
    expect(results.map((r) => r.status)).toEqual(changes.map(() => 200));
    const stored = await connectionRow(row.id);
    expect(stored).toMatchObject({
      name: "N",
      version: changes.length,
      source: { capture_chat_events: false, capture_user_events: false, capture_relationships: false, enabled: true },
      destination: {
        enabled: true,
        allow_create: true,
        segments: ["s"],
        mappings: { contact: [{ from: "phone_number", to: "phone", type: "string" }], company: [] },
      },
    });
  });
});

describe("PATCH: strict validation, one error per bad path", () => {
  it("unknown keys at every level, wrong types, bad values", async () => {
    const row = await seedConnection();
    const res = await patch(row.id, {
      nam: "typo",
      status: "connected",
      source: { enabled: "yes", capture_everything: true },
      destination: {
        segments: ["ok", "", 3],
        allow_create: null,
        mappings: { contact: "none", companies: [] },
        extra: 1,
      },
    });
    expect(res.status).toBe(422);
    expect(res.type).toBe("application/problem+json");
    expect(res.body).toMatchObject({ type: "about:blank", title: "Unprocessable Content", status: 422 });
    expect(paths(res.body)).toEqual(
      [
        "nam",
        "status",
        "source.enabled",
        "source.capture_everything",
        "destination.segments.1",
        "destination.segments.2",
        "destination.allow_create",
        "destination.mappings.contact",
        "destination.mappings.companies",
        "destination.extra",
      ].sort(),
    );
    expect(res.body.errors.find((e: any) => e.path === "source.capture_everything").message).toBe("unknown key");
    // Nothing changed.
    expect(await connectionRow(row.id)).toMatchObject({ version: 0, name: "Test connection" });
  });

  it("bad mappings: unknown standard targets, malformed custom names, type clashes, duplicates, bad shapes", async () => {
    const row = await seedConnection();
    const res = await patch(row.id, {
      destination: {
        mappings: {
          contact: [
            { from: "email", to: "email" },
            { from: "x", to: "nickname" },
            { from: "y", to: "custom_attributes.bad.name" },
            { from: "z", to: "signed_up_at", type: "boolean" },
            { from: "", to: "phone" },
            { from: "a", to: "name", type: "text" },
            { from: "b", to: "name", colour: "red" },
          ],
          company: [
            { from: "mrr", to: "monthly_spend", type: "float" },
            { from: "x", to: "email" },
          ],
        },
      },
    });
    expect(res.status).toBe(422);
    expect(paths(res.body)).toEqual(
      [
        "destination.mappings.contact.1.to",
        "destination.mappings.contact.2.to",
        "destination.mappings.contact.3.type",
        "destination.mappings.contact.4.from",
        "destination.mappings.contact.5.type",
        "destination.mappings.contact.6.colour",
        "destination.mappings.company.1.to",
      ].sort(),
    );
    const message = (path: string) => res.body.errors.find((e: any) => e.path === path).message;
    expect(message("destination.mappings.contact.1.to")).toMatch(
      /"nickname" is not a writable contact attribute; use one of email, external_id/,
    );
    expect(message("destination.mappings.contact.3.type")).toMatch(/"signed_up_at" is a date attribute/);
    // Standard numeric attributes take either numeric type (monthly_spend is listed as a float, stored as an integer).
    expect(
      (
        await patch(row.id, {
          destination: { mappings: { company: [{ from: "mrr", to: "monthly_spend", type: "float" }] } },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await patch(row.id, {
          destination: { mappings: { company: [{ from: "mrr", to: "monthly_spend", type: "string" }] } },
        })
      ).status,
    ).toBe(422);
    const dup = await patch(row.id, {
      destination: {
        mappings: {
          contact: [
            { from: "a", to: "phone" },
            { from: "b", to: "phone" },
          ],
        },
      },
    });
    expect(dup.body.errors).toEqual([
      { path: "destination.mappings.contact.1.to", message: '"phone" is already the target of mapping 0' },
    ]);
  });

  it("standard mappings need no Intercom call and take the attribute's type", async () => {
    const row = await seedConnection();
    const mark = journalMark(sim);
    const res = await patch(row.id, {
      destination: {
        mappings: {
          contact: [
            { from: "signup", to: "signed_up_at", type: "datetime" },
            { from: "mobile", to: "phone" },
          ],
          company: [{ from: "seats", to: "size" }],
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.destination.mappings).toEqual({
      contact: [
        { from: "signup", to: "signed_up_at", type: "datetime" },
        { from: "mobile", to: "phone", type: "string" },
      ],
      company: [{ from: "seats", to: "size", type: "integer" }],
    });
    expect(sim.journal({ since: mark })).toEqual([]);
  });

  it("400 problem for malformed JSON, 422 for a body that is not an object, 404 for an unknown id", async () => {
    const row = await seedConnection();
    const malformed = await patch(row.id, "{");
    expect(malformed.status).toBe(400);
    expect(malformed.type).toBe("application/problem+json");
    expect((await patch(row.id, "[1]")).status).toBe(422);
    expect((await patch(row.id, "null")).status).toBe(422);
    expect((await patch("missing", { name: "x" })).status).toBe(404);
  });
});

describe("PATCH: custom attribute mappings against Intercom", () => {
  it("creates a missing custom attribute with the declared type, once", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    const mark = journalMark(sim);
    const res = await patch(connection.id, {
      destination: {
        mappings: {
          contact: [{ from: "health", to: "custom_attributes.health", type: "float" }],
          company: [{ from: "stage", to: "custom_attributes.stage", type: "string" }],
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.destination.mappings.contact).toEqual([
      { from: "health", to: "custom_attributes.health", type: "float" },
    ]);
    const created = sim
      .journal({ since: mark })
      .filter((e) => e.method === "POST" && e.path === "/data_attributes")
      .map((e) => e.request_body);
    expect(created).toEqual([
      expect.objectContaining({ name: "health", model: "contact", data_type: "float" }),
      expect.objectContaining({ name: "stage", model: "company", data_type: "string" }),
    ]);
    expect(sim.state(workspace.app_id).data_attributes.map((a) => `${a.model}:${a.name}:${a.data_type}`)).toEqual([
      "contact:health:float",
      "company:stage:string",
    ]);
    // Saving the same mappings again (or another field) calls Intercom no more.
    const mark2 = journalMark(sim);
    expect(
      (
        await patch(connection.id, {
          destination: { mappings: { contact: [{ from: "health", to: "custom_attributes.health", type: "float" }] } },
        })
      ).status,
    ).toBe(200);
    expect((await patch(connection.id, { name: "other" })).status).toBe(200);
    expect(sim.journal({ since: mark2 })).toEqual([]);
  });

  it("an existing attribute: its type is used when none is given; a clashing type is a 422 and nothing is created", async () => {
    const { connection } = await connectViaApi(sim);
    expect(
      (
        await patch(connection.id, {
          destination: { mappings: { contact: [{ from: "score", to: "custom_attributes.score", type: "integer" }] } },
        })
      ).status,
    ).toBe(200);
    const second = await connectViaApi(sim); // another Intercom workspace: no "score" there
    const mark = journalMark(sim);
    const clash = await patch(connection.id, {
      destination: {
        mappings: {
          contact: [
            { from: "score", to: "custom_attributes.score", type: "boolean" },
            { from: "tier", to: "custom_attributes.tier", type: "string" },
          ],
        },
      },
    });
    expect(clash.status).toBe(422);
    expect(clash.body.errors).toEqual([
      {
        path: "destination.mappings.contact.0.type",
        message: 'the Intercom contact attribute "score" is of type integer, not boolean',
      },
    ]);
    expect(countCalls(sim, { since: mark, method: "POST", path: "/data_attributes" })).toBe(0);
    // Without a type, the existing attribute's type is taken; integer data fits a float attribute.
    const inferred = await patch(connection.id, {
      destination: { mappings: { contact: [{ from: "points", to: "custom_attributes.score" }] } },
    });
    expect(inferred.body.destination.mappings.contact).toEqual([
      { from: "points", to: "custom_attributes.score", type: "integer" },
    ]);
    expect(second.connection.id).not.toBe(connection.id);
  });

  it("a missing attribute without a type is a 422 asking for one", async () => {
    const { connection } = await connectViaApi(sim);
    const res = await patch(connection.id, {
      destination: { mappings: { contact: [{ from: "x", to: "custom_attributes.brand_new" }] } },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      {
        path: "destination.mappings.contact.0.type",
        message: '"brand_new" does not exist in Intercom yet: give its type so it can be created',
      },
    ]);
  });

  it("Intercom refusing the creation is a 422 on that mapping", async () => {
    const { connection } = await connectViaApi(sim);
    // Standard attribute names cannot be custom ones in Intercom.
    const res = await patch(connection.id, {
      destination: { mappings: { contact: [{ from: "x", to: "custom_attributes.email", type: "string" }] } },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({
      path: "destination.mappings.contact.0.to",
      message: expect.stringMatching(/Intercom refused to create "email"/),
    });
  });

  it("a revoked token while checking a new custom attribute: 409, and the connection becomes revoked", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    sim.revokeTokens(workspace.app_id);
    const res = await patch(connection.id, {
      destination: { mappings: { contact: [{ from: "x", to: "custom_attributes.y", type: "string" }] } },
    });
    expect(res.status).toBe(409);
    expect((await connectionRow(connection.id))!.status).toBe("revoked");
    // Settings that need no Intercom call still save while revoked.
    expect((await patch(connection.id, { destination: { enabled: true } })).status).toBe(200);
  });

  it("an Intercom outage is a 502, and nothing is saved", async () => {
    const { connection } = await connectViaApi(sim);
    sim.configure({ faults: { error_rate: 1 } });
    const res = await patch(connection.id, {
      name: "n",
      destination: { mappings: { contact: [{ from: "x", to: "custom_attributes.y", type: "string" }] } },
    });
    sim.configure({ faults: { error_rate: 0 } });
    expect(res.status).toBe(502);
    expect((await connectionRow(connection.id))!.name).not.toBe("n");
  });

  it("a disconnected connection cannot add a new custom mapping (409) but keeps its other settings editable", async () => {
    const { connection } = await connectViaApi(sim);
    await exports.default.fetch(`${BASE}/v1/connections/${connection.id}`, {
      method: "DELETE",
      headers: await authHeaders(),
    });
    expect(
      (
        await patch(connection.id, {
          destination: { mappings: { company: [{ from: "x", to: "custom_attributes.y", type: "string" }] } },
        })
      ).status,
    ).toBe(409);
    expect((await patch(connection.id, { source: { enabled: false } })).status).toBe(200);
  });
});
