import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("health and URL validation", () => {
  it("GET /healthz answers ok", async () => {
    const res = await exports.default.fetch("https://connector.test/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("HEAD /webhooks/intercom answers 200 for Intercom's URL validation", async () => {
    const res = await exports.default.fetch("https://connector.test/webhooks/intercom", { method: "HEAD" });
    expect(res.status).toBe(200);
  });

  it("an unknown route is a problem+json 404", async () => {
    const res = await exports.default.fetch("https://connector.test/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 404, title: "Not Found" });
  });
});

describe("OpenAPI", () => {
  it("GET /openapi.json describes the routes in OpenAPI 3.1", async () => {
    const res = await exports.default.fetch("https://connector.test/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/healthz");
  });
});
