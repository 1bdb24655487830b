import { describe, expect, it } from "vitest";
import { setup } from "./support";

describe("data attributes", () => {
  it("lists the standard attributes of each model", async () => {
    const { api } = setup();
    const contact = (await api.get("/data_attributes?model=contact")).body;
    expect(contact.type).toBe("list");
    const names = contact.data.map((a: { full_name: string }) => a.full_name);
    expect(names).toEqual(
      expect.arrayContaining([
        "name",
        "email",
        "phone",
        "external_id",
        "signed_up_at",
        "last_seen_at",
        "role",
        "owner_id",
        "unsubscribed_from_emails",
      ]),
    );
    expect(contact.data.every((a: { custom: boolean; model: string }) => !a.custom && a.model === "contact")).toBe(
      true,
    );
    const company = (await api.get("/data_attributes?model=company")).body.data.map(
      (a: { full_name: string }) => a.full_name,
    );
    expect(company).toEqual(
      expect.arrayContaining([
        "name",
        "company_id",
        "plan.name",
        "monthly_spend",
        "remote_created_at",
        "size",
        "website",
        "industry",
      ]),
    );
  });

  it("creates a custom attribute and lists it with full_name custom_attributes.<name>", async () => {
    const { api } = setup();
    const created = await api.post("/data_attributes", {
      name: "health_score",
      model: "contact",
      data_type: "float",
      description: "0..1",
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      type: "data_attribute",
      id: expect.any(Number),
      name: "health_score",
      full_name: "custom_attributes.health_score",
      data_type: "float",
      custom: true,
      archived: false,
      api_writable: true,
      model: "contact",
      description: "0..1",
    });
    const list = (await api.get("/data_attributes?model=contact")).body.data;
    expect(list).toContainEqual(created.body);
    expect((await api.get("/data_attributes?model=company")).body.data).not.toContainEqual(created.body);
  });

  it("answers 400 when the attribute already exists in that model", async () => {
    const { api } = setup();
    await api.post("/data_attributes", { name: "tier", model: "company", data_type: "string" });
    const again = await api.post("/data_attributes", { name: "tier", model: "company", data_type: "integer" });
    expect(again.status).toBe(400);
    expect(again.body.errors[0]).toMatchObject({
      code: "parameter_invalid",
      message: expect.stringMatching(/^You already have 'tier' in your company data/),
    });
    expect((await api.post("/data_attributes", { name: "tier", model: "contact", data_type: "string" })).status).toBe(
      200,
    );
    expect((await api.post("/data_attributes", { name: "email", model: "contact", data_type: "string" })).status).toBe(
      400,
    );
  });

  it("answers 400 for a bad data_type, model or name", async () => {
    const { api } = setup();
    const badType = await api.post("/data_attributes", { name: "x", model: "contact", data_type: "mithril" });
    expect(badType.body.errors[0]).toEqual({ code: "parameter_invalid", message: "Data Type isn't an option" });
    expect((await api.post("/data_attributes", { name: "x", model: "conversation", data_type: "string" })).status).toBe(
      400,
    );
    expect((await api.post("/data_attributes", { name: "a.b", model: "contact", data_type: "string" })).status).toBe(
      400,
    );
    expect((await api.get("/data_attributes?model=conversation")).status).toBe(400);
  });
});
