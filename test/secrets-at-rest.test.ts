/**
 * Walks every connection feature that handles a secret (token connect, OAuth, settings with Intercom calls, test,
 * uninstall hint, rotation re-seal, disconnect, refused tokens), then reads every D1 table raw and every console line
 * captured meanwhile, and looks for the secrets in clear.
 */
import { env, exports } from "cloudflare:workers";
import { base64url } from "jose";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { app } from "../src/api/app";
import { openToken } from "../src/connections/token-vault";
import { authHeaders, mintToken } from "./helpers/auth";
import { connectViaApi } from "./helpers/connections";
import { useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();
const BASE = "https://connector.test";
const WS = "ws_secrets";

const printed: unknown[][] = [];
let spies: MockInstance[] = [];

beforeAll(() => {
  spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      printed.push(args);
    }),
  );
});
afterAll(() => spies.forEach((spy) => spy.mockRestore()));

async function call(method: string, path: string, body?: unknown) {
  const res = await exports.default.fetch(`${BASE}${path}`, {
    method,
    headers: await authHeaders({ workspaceId: WS }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

/** Every row of every table, as text. */
async function dumpDatabase(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'",
  ).all<{ name: string }>();
  const dump: Record<string, unknown[]> = {};
  for (const { name } of tables) dump[name] = (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results;
  return JSON.stringify(dump);
}

/** Secrets and the forms they could leak in (raw, URL-encoded, base64). */
function forms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  return [secret, encodeURIComponent(secret), base64url.encode(bytes), btoa(secret)];
}

describe("no secret at rest or in logs", () => {
  it("tokens, client secret, signing and encryption keys never appear in D1 or on the console", async () => {
    const secrets: Record<string, string> = {
      INTERCOM_CLIENT_SECRET: env.INTERCOM_CLIENT_SECRET,
      ADMIN_JWT_SECRET: env.ADMIN_JWT_SECRET!,
      TOKEN_ENCRYPTION_KEY: env.TOKEN_ENCRYPTION_KEY.split(":")[1]!,
    };
    const responses: string[] = [];

    // Connect by token (US) and by OAuth (EU).
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: WS });
    secrets.token_connect = workspace.token;
    const eu = sim.createWorkspace({ region: "EU" });
    sim.configure({ oauth_app_id: eu.app_id });
    const started = await call("POST", "/v1/connections/oauth", { name: "EU" });
    const consent = await fetch(JSON.parse(started.text).authorize_url, { redirect: "manual" });
    const callbackUrl = new URL(consent.headers.get("location")!);
    secrets.oauth_code = callbackUrl.searchParams.get("code")!;
    const callback = await exports.default.fetch(`${BASE}${callbackUrl.pathname}${callbackUrl.search}`);
    expect(callback.status).toBe(200);
    const euConnection = (await callback.json()) as { id: string };
    responses.push(JSON.stringify(euConnection));
    // The token Intercom issued through OAuth, as only the vault can tell.
    const sealed = await env.DB.prepare("SELECT token_jwe FROM connections WHERE id = ?")
      .bind(euConnection.id)
      .first<{ token_jwe: string }>();
    secrets.token_oauth = await openToken(env, sealed!.token_jwe, euConnection.id);
    expect(secrets.token_oauth).not.toBe(eu.token);

    // Everything else that opens the token: settings with Intercom calls, test, uninstall hint, a refused token.
    responses.push(
      (
        await call("PATCH", `/v1/connections/${connection.id}`, {
          destination: { mappings: { contact: [{ from: "h", to: "custom_attributes.h", type: "float" }] } },
        })
      ).text,
    );
    responses.push((await call("POST", `/v1/connections/${connection.id}/test`)).text);
    responses.push((await call("GET", "/v1/connections")).text);
    responses.push((await call("GET", `/v1/connections/${euConnection.id}`)).text);
    const refused = "dG9rOnJlZnVzZWQtdG9rZW4tMTIzNDU2Nzg5";
    secrets.refused_token = refused;
    responses.push((await call("POST", "/v1/connections", { name: "bad", access_token: refused })).text);
    await exports.default.fetch(`${BASE}/webhooks/intercom/uninstall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ app_id: workspace.app_id }),
    });
    await vi.waitFor(() => expect(JSON.stringify(printed)).toContain("uninstall hint"));

    // Key rotation: a request under a new first key re-seals the token it opens.
    const rotated = {
      ...env,
      TOKEN_ENCRYPTION_KEY: `k2:${base64url.encode(new Uint8Array(32).fill(7))},${env.TOKEN_ENCRYPTION_KEY}`,
    };
    secrets.TOKEN_ENCRYPTION_KEY_2 = base64url.encode(new Uint8Array(32).fill(7));
    const rotatedTest = await app.request(
      `/v1/connections/${euConnection.id}/test`,
      { method: "POST", headers: await authHeaders({ workspaceId: WS }) },
      rotated,
    );
    responses.push(await rotatedTest.text());
    expect(JSON.parse(responses.at(-1)!)).toMatchObject({ ok: true });

    // A request with a bad admin token, then disconnect both.
    const adminJwt = await mintToken({ workspaceId: WS });
    secrets.admin_jwt_signature = adminJwt.split(".")[2]!;
    await exports.default.fetch(`${BASE}/v1/connections`, { headers: { authorization: `Bearer ${adminJwt}x` } });
    responses.push((await call("DELETE", `/v1/connections/${connection.id}`)).text);
    const euRow = await env.DB.prepare("SELECT token_jwe FROM connections WHERE id = ?")
      .bind(euConnection.id)
      .first<{ token_jwe: string }>();
    expect(euRow!.token_jwe).toMatch(/^eyJ[^.]*\.\.[^.]+\.[^.]+\.[^.]+$/); // compact JWE, dir: empty encrypted key
    expect(JSON.parse(atob(euRow!.token_jwe.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")))).toMatchObject({
      kid: "k2",
    });

    const database = await dumpDatabase();
    const logs = JSON.stringify(printed, (_, value) => (value instanceof Error ? String(value) : value));
    expect(logs).toContain("connection created"); // the capture works
    for (const [name, secret] of Object.entries(secrets)) {
      for (const form of forms(secret)) {
        expect(database.includes(form), `${name} in D1`).toBe(false);
        expect(logs.includes(form), `${name} in logs`).toBe(false);
        for (const response of responses) expect(response.includes(form), `${name} in an API response`).toBe(false);
      }
    }
    // The stored tokens are JWEs that are not the tokens.
    expect(database).toContain(`"token_jwe":"eyJ`);
  });
});
