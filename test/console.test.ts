import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SCALAR_BUNDLE_URL } from "../src/api/docs";
import { authHeaders } from "./helpers/auth";
import { seedConnection } from "./helpers/connections";

const BASE = "https://connector.test";
const fetchPath = (path: string, init?: RequestInit) => exports.default.fetch(`${BASE}${path}`, init);

/** The CSP directives of a response, by name. */
function policy(res: Response): Record<string, string[]> {
  const header = res.headers.get("content-security-policy") ?? "";
  return Object.fromEntries(
    header
      .split(";")
      .map((directive) => directive.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe("console pages", () => {
  it.each(["/console", "/console/connections/some-id"])(
    "%s: HTML with a strict nonce CSP, no data, never framed",
    async (path) => {
      const res = await fetchPath(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const csp = policy(res);
      expect(csp["default-src"]).toEqual(["'none'"]);
      expect(csp["frame-ancestors"]).toEqual(["'none'"]);
      expect(csp["form-action"]).toEqual(["'none'"]);
      expect(csp["base-uri"]).toEqual(["'none'"]);
      expect(csp["connect-src"]).toEqual(["'self'"]);
      expect(csp["style-src"]).toEqual(["'self'"]);
      const [nonceSource, ...otherScripts] = csp["script-src"] ?? [];
      expect(otherScripts).toEqual([]);
      expect(nonceSource).toMatch(/^'nonce-[A-Za-z0-9+/=_-]{16,}'$/);
      const html = await res.text();
      expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
      // Every script element is the external console script, carrying this response's nonce; no inline script.
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts).toHaveLength(1);
      expect(scripts[0]![1]).toContain('src="/console/console.js"');
      expect(scripts[0]![1]).toContain(`nonce="${nonceSource!.slice(7, -1)}"`);
      expect(scripts[0]![2]).toBe("");
      expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handler
      expect(html).not.toMatch(/\sstyle=/i); // no inline style (style-src 'self')
      expect(html).not.toContain("eyJ"); // no JWT-looking text
    },
  );

  it("gives every response its own nonce", async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) nonces.add((policy(await fetchPath("/console"))["script-src"] ?? []).join());
    expect(nonces.size).toBe(3);
  });

  it("serves its script and stylesheet with their types; the script inserts API text as text only", async () => {
    const script = await fetchPath("/console/console.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    const source = await script.text();
    expect(source).toContain("sessionStorage");
    for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"]) {
      expect(source, sink).not.toContain(sink);
    }
    expect(source).not.toContain("localStorage");
    expect(source).not.toContain("document.cookie");
    const style = await fetchPath("/console/console.css");
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await style.text()).toContain(":focus-visible");
  });

  it("renders the default mappings from the code's own table", async () => {
    const html = await (await fetchPath("/console/connections/x")).text();
    expect(html).toContain("<code>registered_at</code>");
    expect(html).toContain("<code>monthly_spend</code>");
  });
});

describe("API reference", () => {
  it("GET /docs renders Scalar from /openapi.json with nonce'd scripts from the pinned CDN bundle", async () => {
    const res = await fetchPath("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = policy(res);
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp["script-src"]).toContain("https://cdn.jsdelivr.net");
    expect(csp["script-src"]).not.toContain("'unsafe-inline'");
    const nonce = csp["script-src"]!.find((source) => source.startsWith("'nonce-"))!.slice(7, -1);
    const html = await res.text();
    expect(html).toContain(`src="${SCALAR_BUNDLE_URL}"`);
    expect(html).toContain("/openapi.json");
    const scriptTags = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scriptTags.length).toBeGreaterThanOrEqual(2);
    for (const tag of scriptTags) expect(tag).toContain(`nonce="${nonce}"`);
  });

  it("documents every operation with its problem responses", async () => {
    const doc = (await (await fetchPath("/openapi.json")).json()) as any;
    const summary = doc.paths["/v1/connections/{id}/summary"]?.get;
    expect(summary).toBeDefined();
    expect(Object.keys(summary.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "404"]));
  });
});

describe("nosniff and escaping on the JSON API", () => {
  it("sets nosniff on JSON, problem+json and not-found answers", async () => {
    for (const [path, status] of [
      ["/healthz", 200],
      ["/v1/connections", 401],
      ["/no-such-route", 404],
    ] as const) {
      const res = await fetchPath(path);
      expect(res.status).toBe(status);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });

  it("returns a <script> name and mapping as JSON strings, never as HTML", async () => {
    const workspaceId = "ws_console_escape";
    const connection = await seedConnection({ workspaceId });
    const name = "<script>window.pwned=1</script>";
    const from = '<img src=x onerror="window.pwned=1">';
    const res = await fetchPath(`/v1/connections/${connection.id}`, {
      method: "PATCH",
      headers: await authHeaders({ workspaceId, scope: "admin" }),
      body: JSON.stringify({ name, destination: { mappings: { contact: [{ from, to: "phone", type: "string" }] } } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const body = (await res.json()) as any;
    expect(body.name).toBe(name);
    expect(body.destination.mappings.contact[0].from).toBe(from);
    // The console page itself never carries stored data: the browser test (test/e2e) shows both rendered inert.
    const html = await (await fetchPath(`/console/connections/${connection.id}`)).text();
    expect(html).not.toContain("pwned");
  });
});
