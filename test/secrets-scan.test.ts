/**
 * The suite-wide secrets scanner (test/helpers/leaks.ts, installed by test/setup.ts) proves itself: it flags a leak
 * planted in a separate recorder, in every form and place it searches, and the suite's own recorder of this file
 * really sees the connector's responses and the console lines of its routes, queue consumers and Durable Objects.
 * (Which secrets a connection flow handles, and that none is at rest, is test/secrets-at-rest.test.ts.)
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";
import {
  bindingSecrets,
  captureConsole,
  dumpD1,
  findLeaks,
  LeakRecorder,
  secretForms,
  suiteRecorder,
} from "./helpers/leaks";
import { notification, postWebhook } from "./helpers/webhooks";
import { accessToken } from "./intercom-sim/ids";

const sim = useIntercomSim();
const BASE = "https://connector.test";
const secrets = bindingSecrets(env);

describe("the scanner catches a leak", () => {
  it("in a console line: a simulator token and every test secret, raw, URL-encoded, base64 and base64url", async () => {
    const planted = new LeakRecorder(() => "planted");
    // Not passed through: the suite's recorder of this file must not see the planted secrets.
    const restore = captureConsole(planted, { passThrough: false });
    const token = accessToken();
    try {
      console.warn({ level: "warn", msg: "oops", headers: { authorization: `Bearer ${token}` } });
      for (const [name, secret] of Object.entries(secrets)) {
        for (const form of secretForms(secret)) console.log(`${name}=${form}`);
      }
      console.info("a line without any secret");
    } finally {
      restore();
    }
    const leaks = planted.leaks(secrets);
    expect(leaks.filter((leak) => leak.secret === "an Intercom access token")).toHaveLength(1);
    expect(leaks.find((leak) => leak.secret === "an Intercom access token")!.excerpt).toContain("Bearer [LEAKED]");
    for (const name of Object.keys(secrets)) {
      // One line per form; a form may contain another (base64url of a secret without padding is its base64 prefix).
      expect(leaks.filter((leak) => leak.secret === name).length, name).toBeGreaterThanOrEqual(
        secretForms(secrets[name]!).length,
      );
    }
    expect(planted.items.at(-1)).toMatchObject({ source: "console.info", where: "planted" });
    expect(findLeaks([planted.items.at(-1)!], secrets)).toEqual([]);
    expect(
      leaks.every((leak) => !leak.excerpt.includes(token) && !leak.excerpt.includes(secrets.INTERCOM_CLIENT_SECRET!)),
    ).toBe(true);
  });

  it("in a response: its body or a header", async () => {
    const planted = new LeakRecorder(() => "planted");
    await planted.recordResponse(
      "POST /auth/eagle/token",
      Response.json({ token_type: "Bearer", access_token: accessToken() }),
    );
    await planted.recordResponse(
      "GET /oauth/intercom/callback",
      new Response(null, {
        status: 302,
        headers: { location: `https://cdp.test/?k=${encodeURIComponent(secrets.ADMIN_JWT_SECRET!)}` },
      }),
    );
    await planted.recordResponse("GET /healthz", Response.json({ ok: true }));
    const leaks = planted.leaks(secrets);
    expect(leaks.map((leak) => `${leak.source}: ${leak.secret}`)).toEqual([
      "response POST /auth/eagle/token 200: an Intercom access token",
      "response GET /oauth/intercom/callback 302: ADMIN_JWT_SECRET",
    ]);
  });

  it("in D1: a plaintext token in any column of any table", async () => {
    const token = accessToken();
    await env.DB.prepare(
      "INSERT INTO sync_logs (connection_id, direction, outcome, object_type, detail, created_at) VALUES (NULL, 'out', 'failed', 'user', ?, ?)",
    )
      .bind(`sent with ${token}`, Date.now())
      .run();
    try {
      const leaks = findLeaks(await dumpD1(env.DB), secrets);
      expect(leaks.map((leak) => `${leak.source}: ${leak.secret}`)).toEqual(["d1 sync_logs: an Intercom access token"]);
    } finally {
      await env.DB.prepare("DELETE FROM sync_logs WHERE detail LIKE 'sent with %'").run();
    }
    expect(findLeaks(await dumpD1(env.DB), secrets)).toEqual([]);
  });
});

describe("the suite's recorder sees everything the connector says", () => {
  it("responses of exports.default.fetch, with the test that got them", async () => {
    const recorder = suiteRecorder();
    await exports.default.fetch(`${BASE}/healthz`);
    expect(recorder.items).toContainEqual({
      source: "response GET /healthz 200",
      where: expect.stringMatching(/^test\/secrets-scan\.test\.ts › .*responses of exports\.default\.fetch/),
      text: expect.stringContaining('{"ok":true}'),
    });
  });

  it("log lines of the ack path and of the source queue consumer", async () => {
    const recorder = suiteRecorder();
    const unsigned = await postWebhook(notification("contact.user.created", { appId: "app_scan" }), {
      signature: null,
    });
    expect(unsigned.status).toBe(401);
    expect(
      recorder.items.some(
        (item) => item.source === "console.warn" && item.text.includes("webhook refused: bad or missing signature"),
      ),
    ).toBe(true);
    const signed = notification("contact.user.created", { appId: "app_scan_unknown" });
    expect((await postWebhook(signed)).status).toBe(200);
    // The consumer runs in the background (queue batches wait up to 1 s): its skip is logged there.
    await waitFor(
      () => recorder.items.some((item) => item.text.includes(`no connection for Intercom app app_scan_unknown`)),
      10_000,
      "the consumer's log line",
    );
  });

  it("log lines of a ContactSync Durable Object syncing to the simulator", async () => {
    const recorder = suiteRecorder();
    const { workspaceId, connection } = await connectDestination(sim);
    const res = await exports.default.fetch(`${BASE}/v1/users`, {
      method: "PUT",
      headers: await authHeaders({ workspaceId, scope: "ingest" }),
      body: JSON.stringify({ user_id: "scan-1", email: "scan-1@example.com" }),
    });
    expect(res.status).toBe(200);
    await waitFor(
      () =>
        recorder.items.some(
          (item) => item.text.includes('"msg":"destination contact synced"') && item.text.includes(connection.id),
        ),
      10_000,
      "the object's log line",
    );
  });
});
