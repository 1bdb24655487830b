import { describe, expect, it } from "vitest";
import { client, send, setup } from "./support";

describe("regions", () => {
  it("serves EU and AU workspaces under /eu and /au, on every REST route", async () => {
    const { sim } = setup();
    const eu = sim.createWorkspace({ app_id: "app_eu", region: "EU" });
    const au = sim.createWorkspace({ app_id: "app_au", region: "AU" });
    const euMe = await send(sim, "GET", "/eu/me", { token: eu.token });
    expect(euMe.body.app).toMatchObject({ id_code: "app_eu", region: "EU" });
    expect((await send(sim, "GET", "/au/me", { token: au.token })).body.app.region).toBe("AU");
    const created = await send(sim, "POST", "/eu/contacts", { token: eu.token, body: { external_id: "u-1" } });
    expect(created.status).toBe(200);
    const found = await send(sim, "POST", "/eu/contacts/search", {
      token: eu.token,
      body: { query: { field: "external_id", operator: "=", value: "u-1" } },
    });
    expect(found.body.total_count).toBe(1);
    expect((await send(sim, "GET", `/eu/contacts/${created.body.id}`, { token: eu.token })).status).toBe(200);
  });

  it("accepts X-Sim-Region as another way to reach a regional host", async () => {
    const { sim } = setup();
    const eu = sim.createWorkspace({ region: "EU" });
    expect((await send(sim, "GET", "/me", { token: eu.token, headers: { "X-Sim-Region": "EU" } })).status).toBe(200);
  });

  it("answers 401 when a token is used on another region's host", async () => {
    const { sim, ws } = setup();
    const eu = sim.createWorkspace({ region: "EU" });
    for (const [path, token] of [
      ["/me", eu.token],
      ["/au/me", eu.token],
      ["/eu/me", ws.token],
    ] as const) {
      const res = await send(sim, "GET", path, { token });
      expect(res.status).toBe(401);
      expect(res.body.errors).toEqual([{ code: "unauthorized", message: "Access Token Invalid" }]);
    }
  });
});

describe("journal", () => {
  it("records every REST request with workspace, region, regionless path, query, status and body", async () => {
    const { sim, api, clock } = setup();
    const eu = sim.createWorkspace({ app_id: "app_eu", region: "EU" });
    await send(sim, "POST", "/contacts", {
      token: api.token,
      body: { external_id: "u-1" },
      headers: { "Intercom-Version": "2.16" },
    });
    clock.advance(1234);
    await send(sim, "GET", "/eu/companies?company_id=acme", { token: eu.token });
    await send(sim, "GET", "/me", { token: "bad" });
    await send(sim, "GET", "/_sim/state");
    const entries = sim.journal();
    expect(entries).toEqual([
      {
        seq: 1,
        at: clock.now() - 1234,
        app_id: "app_us",
        region: "US",
        method: "POST",
        path: "/contacts",
        query: {},
        intercom_version: "2.16",
        status: 200,
        request_body: { external_id: "u-1" },
      },
      {
        seq: 2,
        at: clock.now(),
        app_id: "app_eu",
        region: "EU",
        method: "GET",
        path: "/companies",
        query: { company_id: "acme" },
        intercom_version: null,
        status: 404,
        request_body: null,
      },
      {
        seq: 3,
        at: clock.now(),
        app_id: null,
        region: "US",
        method: "GET",
        path: "/me",
        query: {},
        intercom_version: null,
        status: 401,
        request_body: null,
      },
    ]);
  });

  it("filters by seq and workspace, and can be cleared", async () => {
    const { sim, api } = setup();
    const other = sim.createWorkspace();
    await api.get("/me");
    const mark = sim.journal().at(-1)!.seq;
    await api.get("/tags");
    await client(sim, other.token).get("/tags");
    expect(sim.journal({ since: mark }).map((e) => e.app_id)).toEqual(["app_us", other.app_id]);
    expect(sim.journal({ app_id: other.app_id })).toHaveLength(1);
    const overHttp = await send(sim, "GET", `/_sim/journal?since=${mark}&app_id=app_us`);
    expect(overHttp.body.entries.map((e: { path: string }) => e.path)).toEqual(["/tags"]);
    await send(sim, "DELETE", "/_sim/journal");
    expect(sim.journal()).toEqual([]);
    // Sequence numbers keep counting after a clear, so a saved mark stays meaningful.
    await api.get("/me");
    expect(sim.journal()[0]!.seq).toBe(mark + 3);
  });

  it("records OAuth calls and raw bodies that are not JSON", async () => {
    const { sim, api } = setup();
    await send(
      sim,
      "GET",
      `/oauth?client_id=sim-client-id&state=s&redirect_uri=${encodeURIComponent("https://x.test/cb")}`,
    );
    await api.post("/contacts", "{oops");
    expect(sim.journal().map((e) => [e.path, e.status, e.request_body])).toEqual([
      ["/oauth", 302, null],
      ["/contacts", 400, "{oops"],
    ]);
  });
});
