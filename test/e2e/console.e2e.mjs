// `npm run test:e2e`: the console in a real browser (Debian's chromium driven by playwright-core) against the whole
// product running locally as `npm run dev` runs it: the Intercom simulator and the connector under `wrangler dev`
// (a snapshot of the working tree, its own local D1, free ports; see test/bench/local-worker.mjs). The scenarios run
// in order and share one browser session: sign in, connect by OAuth through the simulator, settings that persist
// after a reload, a mapping refused beside its field, stored markup rendered inert, a signed webhook whose capture
// appears in the Log, a resync watched to its end, an import with optional parts ticked watched to its end (and one
// the API refuses), a dead letter replayed, connect by token. Every page gets a screenshot (test/e2e/screenshots/)
// and an axe-core accessibility check; any CSP violation or page error fails.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { loadDevConfig, mintDevToken } from "../../scripts/dev-vars.mjs";
import { benchSession, devVars, snapshotApp, sqlString, wranglerSync } from "../bench/local-worker.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.join(import.meta.dirname, "screenshots");
const APP_ID = "e2eapp";
const SIM_TOKEN = "e2e-intercom-token";
const WORKSPACE = "ws_e2e";
const CONNECTION_NAME = "E2E Intercom";
const HOSTILE_NAME = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 1">';
const HOSTILE_FROM = "<script>window.__pwned = 2</script>";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: install Debian's browser with \`apt-get install -y chromium\`.`);
  process.exit(1);
}

const session = benchSession({ prefix: "intercom-e2e-", keep: process.env.E2E_KEEP === "1" });
/** Everything the scenarios share. */
const s = {
  /** @type {any} */ sim: null,
  /** @type {any} */ connector: null,
  /** @type {import("playwright-core").BrowserContext} */ context: /** @type {any} */ (null),
  /** @type {import("playwright-core").Page} */ page: /** @type {any} */ (null),
  secret: "",
  /** A fresh Chromium profile (--user-data-dir), removed afterwards. */
  profile: "",
  adminToken: "",
  ingestToken: "",
  connectionId: "",
  /** @type {string[]} */ violations: [],
};

async function request(url, init = {}) {
  const response = await fetch(url, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${init.method ?? "GET"} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** Runs axe-core in the page (injected through the DevTools protocol, which the page's CSP does not govern). */
async function checkAccessibility(name) {
  const { page } = s;
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    const run = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] } });
    return run.violations.map((violation) => ({
      id: violation.id,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.join(" ")).slice(0, 5),
    }));
  });
  assert.deepEqual(results, [], `accessibility violations on ${name}:\n${JSON.stringify(results, null, 2)}`);
}

/** A screenshot for the README and an accessibility check of the page as it is now. */
async function capture(name) {
  await s.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  await checkAccessibility(name);
}

const console$ = (path) => `${s.connector.base}${path}`;

/** Loads a console page afresh (a `goto` that changes only the hash would not reload it). */
async function visit(path) {
  await s.page.goto("about:blank");
  await s.page.goto(console$(path));
}

async function openTab(name) {
  await s.page.click(`#tab-${name}`);
  await s.page.waitForSelector(`#panel-${name}:not([hidden])`);
}

async function waitForFlash(text) {
  await s.page.waitForFunction((expected) => document.getElementById("flash")?.textContent?.includes(expected), text);
}

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  snapshotApp(path.join(session.tmp, "app"));
  const vars = devVars(session.tmp);
  const config = loadDevConfig(vars.file);
  s.secret = vars.vars.INTERCOM_CLIENT_SECRET;
  wranglerSync(["d1", "migrations", "apply", "DB", "--local", "--persist-to", session.persist]);
  s.sim = await session.start({
    args: ["--config", "test/intercom-sim/wrangler.toml", "--persist-to", path.join(session.tmp, "sim-state")],
    readyPath: "/_sim/config",
    logFile: path.join(session.tmp, "sim.log"),
  });
  s.connector = await session.start({
    args: (base) => [
      "--persist-to",
      session.persist,
      "--var",
      `INTERCOM_API_BASE:${s.sim.base}`,
      "--var",
      `INTERCOM_OAUTH_URL:${s.sim.base}/oauth`,
      "--var",
      `PUBLIC_URL:${base}`,
      "--var",
      `OAUTH_RETURN_URL:${base}/console`,
      ...vars.args,
    ],
    logFile: path.join(session.tmp, "connector.log"),
  });
  // Webhooks wait in the simulator's outbox: the test sends the one it wants, signed, itself.
  await request(`${s.sim.base}/_sim/config`, {
    method: "POST",
    body: JSON.stringify({
      client_id: config.get("INTERCOM_CLIENT_ID"),
      client_secret: s.secret,
      webhook_url: `${s.connector.base}/webhooks/intercom`,
      webhook_delivery: "manual",
      oauth_app_id: APP_ID,
    }),
  });
  await request(`${s.sim.base}/_sim/workspaces`, {
    method: "POST",
    body: JSON.stringify({ app_id: APP_ID, token: SIM_TOKEN, name: "E2E workspace" }),
  });
  s.adminToken = await mintDevToken(config, { workspace: WORKSPACE, scope: "admin", expires: "1h" });
  s.ingestToken = await mintDevToken(config, { workspace: WORKSPACE, scope: "ingest", expires: "1h" });
  s.profile = mkdtempSync(path.join(os.tmpdir(), "intercom-e2e-chromium-"));
  s.context = await chromium.launchPersistentContext(s.profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  s.page = s.context.pages()[0] ?? (await s.context.newPage());
  s.page.setDefaultTimeout(30_000);
  s.page.on("console", (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) s.violations.push(message.text());
  });
  s.page.on("pageerror", (error) => s.violations.push(`page error: ${error.message}`));
});

after(async () => {
  await s.context?.close();
  if (s.profile) rmSync(s.profile, { recursive: true, force: true });
  await session.cleanup();
});

test("sign in with a pasted admin token, kept in sessionStorage only", async () => {
  const { page } = s;
  await visit("/console");
  await page.waitForSelector("#sign-in:not([hidden])");
  await capture("sign-in");
  await page.fill("#token", "not-a-token");
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("sign-in-error")?.textContent?.includes("not a JWT"));
  await page.fill("#token", s.adminToken);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForSelector("#connections-empty:not([hidden])");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("intercom-connector.admin-token")), s.adminToken);
  assert.deepEqual(await s.context.cookies(), []);
  assert.ok(!page.url().includes(s.adminToken));
  assert.ok(!(await page.content()).includes(s.adminToken), "the token is not in the DOM");
});

test("connect with Intercom by OAuth through the simulator", async () => {
  const { page } = s;
  // Users the CDP already has; the destination is off, so nothing syncs until a resync.
  for (const n of [2, 3]) {
    await request(console$("/v1/users"), {
      method: "PUT",
      headers: { authorization: `Bearer ${s.ingestToken}` },
      body: JSON.stringify({
        user_id: `u-e2e-${n}`,
        email: `e2e${n}@example.com`,
        properties: { full_name: `E2E ${n}` },
      }),
    });
  }
  await page.fill("#oauth-name", CONNECTION_NAME);
  await page.click("#oauth-form button[type=submit]");
  await page.waitForURL(/\/console\/connections\/[^/]+#connection$/);
  s.connectionId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  await waitForFlash("Connected with Intercom");
  await page.waitForFunction(
    (name) => document.getElementById("connection-title")?.textContent === name,
    CONNECTION_NAME,
  );
  assert.match((await page.textContent("#connection-status")) ?? "", /connected.*e2eapp/);
  await capture("connection");
  await page.click("a[href='/console']:not(.brand)");
  await page.waitForSelector("#connections-body tr");
  assert.match((await page.textContent("#connections-body")) ?? "", /E2E Intercom.*connected/);
  await capture("connections");
});

test("settings in tabs persist after a reload", async () => {
  const { page } = s;
  await visit(`/console/connections/${s.connectionId}`);
  await page.waitForFunction(
    (name) => document.getElementById("connection-title")?.textContent === name,
    CONNECTION_NAME,
  );
  await page.check("#destination-enabled");
  await page.click("#connection-form button[type=submit]");
  await waitForFlash("Saved");
  await openTab("source");
  await page.uncheck("#source-capture_chat_events");
  await page.selectOption("#on-contact-deleted", "erase");
  await page.click("#source-form button[type=submit]");
  await waitForFlash("Saved");
  await capture("source");
  await openTab("destination");
  await page.check("#allow-create");
  await page.check("#clear-removed");
  await page.selectOption("#on-erase", "archive");
  await page.click("#destination-form button[type=submit]");
  await waitForFlash("Saved");
  await page.reload();
  await page.waitForFunction(() => document.getElementById("connection-title")?.textContent !== "Connection");
  assert.equal(page.url().endsWith("#destination"), true, "the tab survives the reload");
  assert.equal(await page.isChecked("#allow-create"), true);
  assert.equal(await page.isChecked("#destination-enabled"), true);
  assert.equal(await page.isChecked("#source-capture_chat_events"), false);
  assert.equal(await page.isChecked("#source-capture_user_events"), true);
  assert.equal(await page.isChecked("#clear-removed"), true);
  assert.equal(await page.inputValue("#on-erase"), "archive");
  assert.equal(await page.inputValue("#on-contact-deleted"), "erase");
  const stored = await request(console$(`/v1/connections/${s.connectionId}`), {
    headers: { authorization: `Bearer ${s.adminToken}` },
  });
  assert.equal(stored.source.on_contact_deleted, "erase");
  assert.deepEqual([stored.destination.clear_removed, stored.destination.on_erase], [true, "archive"]);
  // Back to the defaults the later scenarios expect.
  await page.uncheck("#clear-removed");
  await page.selectOption("#on-erase", "none");
  await page.click("#destination-form button[type=submit]");
  await waitForFlash("Saved");
});

test("a mapping with a type that does not fit shows the API's error beside its field", async () => {
  const { page } = s;
  await openTab("destination");
  await page.click(".add-mapping[data-model=contact]");
  await page.fill("#m-contact-0-from", "signup_flag");
  await page.fill("#m-contact-0-to", "signed_up_at");
  await page.selectOption("#m-contact-0-type", "boolean");
  await page.click("#destination-form button[type=submit]");
  await page.waitForFunction(() =>
    document.getElementById("m-contact-0-type-error")?.textContent?.includes("does not fit"),
  );
  assert.equal(await page.getAttribute("#m-contact-0-type", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#m-contact-0-type", "aria-describedby"), "m-contact-0-type-error");
  await capture("destination-mapping-error");
  await page.selectOption("#m-contact-0-type", "date");
  await page.click("#destination-form button[type=submit]");
  await waitForFlash("Saved");
  assert.equal(await page.textContent("#m-contact-0-type-error"), "");
  await capture("destination");
});

test("a stored <script> name and mapping render as inert text", async () => {
  const { page } = s;
  await request(console$(`/v1/connections/${s.connectionId}`), {
    method: "PATCH",
    headers: { authorization: `Bearer ${s.adminToken}` },
    body: JSON.stringify({
      name: HOSTILE_NAME,
      destination: { mappings: { contact: [{ from: HOSTILE_FROM, to: "phone", type: "string" }] } },
    }),
  });
  for (const url of [`/console/connections/${s.connectionId}#destination`, "/console"]) {
    await visit(url);
    await page.waitForFunction((name) => document.body.textContent?.includes(name), HOSTILE_NAME);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, `${url}: no stored script ran`);
    assert.equal(await page.locator("img[src=x]").count(), 0, `${url}: no element was created from stored markup`);
  }
  await visit(`/console/connections/${s.connectionId}#destination`);
  await page.waitForFunction((name) => document.getElementById("connection-title")?.textContent === name, HOSTILE_NAME);
  assert.equal(await page.inputValue("#m-contact-0-from"), HOSTILE_FROM);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await request(console$(`/v1/connections/${s.connectionId}`), {
    method: "PATCH",
    headers: { authorization: `Bearer ${s.adminToken}` },
    body: JSON.stringify({ name: CONNECTION_NAME, destination: { mappings: { contact: [] } } }),
  });
});

test("a signed webhook's capture appears in the Log", async () => {
  const { page } = s;
  await request(`${s.sim.base}/contacts`, {
    method: "POST",
    headers: { authorization: `Bearer ${SIM_TOKEN}` },
    body: JSON.stringify({ external_id: "u-e2e-1", email: "e2e1@example.com", name: "E2E One" }),
  });
  const { pending } = await request(`${s.sim.base}/_sim/webhooks`);
  const notification = pending.find((item) => item.topic === "contact.user.created");
  assert.ok(notification, "the simulator queued contact.user.created");
  const body = JSON.stringify(notification);
  const signature = createHmac("sha1", s.secret).update(body).digest("hex");
  const ack = await fetch(console$("/webhooks/intercom"), {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature": `sha1=${signature}` },
    body,
  });
  assert.equal(ack.status, 200);
  await visit(`/console/connections/${s.connectionId}#log`);
  await page.check("#log-auto");
  await page.fill("#log-q", "u-e2e-1");
  await page.click("#log-filters button[type=submit]");
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll("#log-body tr")].some((row) =>
        /in\s*captured\s*user\s*u-e2e-1/.test(row.textContent ?? ""),
      ),
    undefined,
    { timeout: 60_000 },
  );
  await capture("log");
});

test("a resync runs to its end (its syncs appear in the Log)", async () => {
  const { page } = s;
  await visit(`/console/connections/${s.connectionId}#summary`);
  await page.waitForSelector("#summary-figures div");
  await page.click("#resync");
  await page.waitForFunction(() =>
    /Resync started: \d+ user/.test(document.getElementById("jobs-message")?.textContent ?? ""),
  );
  // The Summary shows the job's progress bar; here the run has ended when each CDP user has a sync row.
  await openTab("log");
  await page.check("#log-auto");
  await page.selectOption("#log-direction", "out");
  await page.waitForFunction(
    () => {
      const text = [...document.querySelectorAll("#log-body tr")].map((row) => row.textContent ?? "");
      return ["u-e2e-2", "u-e2e-3"].every((id) => text.some((row) => row.includes(id) && /synced/.test(row)));
    },
    undefined,
    { timeout: 90_000 },
  );
  const contacts = (await request(`${s.sim.base}/_sim/state?app_id=${APP_ID}`)).contacts;
  for (const id of ["u-e2e-2", "u-e2e-3"])
    assert.ok(
      contacts.some((contact) => contact.external_id === id),
      `${id} in Intercom`,
    );
  await openTab("summary");
  await page.waitForFunction(() => /synced/.test(document.getElementById("counts-body")?.textContent ?? ""));
  await capture("summary");
});

test("an import with optional parts runs from the Summary to its end", async () => {
  const { page } = s;
  await visit(`/console/connections/${s.connectionId}#summary`);
  // The import form shows once the imports API answers; the import the connect started is over first.
  await page.waitForSelector("#import-form:not([hidden])");
  const ended = () =>
    /^Import[^:]*: (done|failed|cancelled)/.test(document.getElementById("job-import-label")?.textContent ?? "");
  await page.waitForFunction(ended, undefined, { timeout: 90_000 });
  // The conversations' day is the API's default (90 days back), and only editable with its part ticked.
  assert.equal(await page.isDisabled("#import-conversations-since"), true);
  const since = await page.inputValue("#import-conversations-since");
  const days = (Date.now() - new Date(`${since}T00:00`).getTime()) / 86_400_000;
  assert.ok(days > 89 && days < 91, `the default window: ${since}`);
  await page.check("#import-tags");
  await page.check("#import-conversations");
  assert.equal(await page.isEnabled("#import-conversations-since"), true);
  await page.check("#import-events");
  await page.click("#import");
  // Chat events are off since the settings scenario: the conversations part is skipped, and the answer says so.
  const answered = () => {
    const text = document.getElementById("import-message")?.textContent ?? "";
    return (text !== "" && !text.startsWith("Starting")) || document.getElementById("import-form-error")?.textContent;
  };
  await page.waitForFunction(answered).catch(async (error) => {
    throw new Error(`no answer shown: "${await page.textContent("#import-message")}" (${error.message})`);
  });
  const message = (await page.textContent("#import-message")) ?? "";
  assert.match(
    message,
    /^Import started; data events will cost about \d+ Intercom calls; past conversations skipped: source\.capture_chat_events is off\./,
    `refused: ${await page.textContent("#import-form-error")}`,
  );
  // The form's import (the second) has ended when the API says so; the Summary then shows it.
  const imports = async () =>
    (
      await request(console$(`/v1/connections/${s.connectionId}/imports`), {
        headers: { authorization: `Bearer ${s.adminToken}` },
      })
    ).items;
  let job;
  for (let tries = 0; ; tries++) {
    const items = await imports();
    if (items.length === 2 && items[0].state === "done") {
      job = items[0];
      break;
    }
    assert.ok(tries < 90, `the import ended: ${JSON.stringify(items.map((item) => item.state))}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  // It ran with the parts ticked, and only those: the first import (by the connect) had none.
  assert.deepEqual(
    [job.include_tags, job.include_conversations, job.include_events],
    [true, true, true],
    JSON.stringify(job),
  );
  assert.deepEqual(
    job.phases.map((phase) => [phase.object, phase.skipped_reason ?? null]),
    [
      ["companies", null],
      ["contacts", null],
      ["conversations", "source.capture_chat_events is off"],
      ["events", null],
    ],
  );
  const events = job.phases.find((phase) => phase.object === "events");
  assert.ok(events.estimated_calls >= 1 && events.calls >= 1, JSON.stringify(events));
  assert.ok(message.includes(`about ${events.estimated_calls} Intercom calls`), message);
  await page.waitForFunction(
    () => /^Import[^:]*: done/.test(document.getElementById("job-import-label")?.textContent ?? ""),
    undefined,
    { timeout: 30_000 },
  );
  // A finished import counts every item it read against its total ("done, 5 of 5").
  const label = await page.$eval("#job-import-label", (element) => element.textContent ?? "");
  const counted = /: done, (\d+) of (\d+)$/.exec(label);
  assert.ok(counted && counted[1] === counted[2], `a finished import's figures: ${label}`);
  await capture("summary-import");
});

test("an import the API refuses shows its reason", async () => {
  const { page } = s;
  // A day in the future (the field's max bypassed, as an older browser might): 422, beside the date.
  await page.check("#import-conversations");
  await page.evaluate(() => document.getElementById("import-conversations-since")?.removeAttribute("max"));
  const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  await page.fill("#import-conversations-since", future);
  await page.click("#import");
  await page.waitForFunction(() =>
    /future/.test(document.getElementById("import-conversations-since-error")?.textContent ?? ""),
  );
  assert.equal(await page.getAttribute("#import-conversations-since", "aria-invalid"), "true");
  assert.equal(await page.textContent("#import-form-error"), "Import not started: see the message beside the date.");
  await page.uncheck("#import-conversations");
  // A switched-off source is a deterministic 409 (a running import would race the click).
  const patch = (enabled) =>
    request(console$(`/v1/connections/${s.connectionId}`), {
      method: "PATCH",
      headers: { authorization: `Bearer ${s.adminToken}` },
      body: JSON.stringify({ source: { enabled } }),
    });
  await patch(false);
  try {
    await page.click("#import");
    await page.waitForFunction(
      () =>
        document.getElementById("import-form-error")?.textContent ===
        "Import not started: The source is switched off: turn it on first.",
    );
    assert.equal(await page.textContent("#import-message"), "");
  } finally {
    await patch(true);
  }
});

test("a dead letter is replayed from the Summary", async () => {
  const { page } = s;
  const [user] = session.d1(`SELECT pk FROM users WHERE workspace_id = 'ws_e2e' AND user_id = 'u-e2e-2'`);
  const message = JSON.stringify({ kind: "user", connection_id: s.connectionId, local_pk: user.pk });
  session.d1(
    `INSERT INTO dead_letters (queue, connection_id, body, message_id, created_at) VALUES ('intercom-outbound', ${sqlString(s.connectionId)}, ${sqlString(message)}, 'e2e-dead-letter-1', ${Date.now()})`,
  );
  await visit(`/console/connections/${s.connectionId}#summary`);
  await page.waitForFunction(() =>
    /^1 waiting for a replay/.test(document.getElementById("dead-letters-line")?.textContent ?? ""),
  );
  await page.waitForSelector("#dead-letters-list li");
  await capture("summary-dead-letter");
  await page.click("#replay");
  await waitForFlash("Replayed 1 dead letter");
  await page.waitForFunction(() =>
    /^0 waiting for a replay, 1 in all/.test(document.getElementById("dead-letters-line")?.textContent ?? ""),
  );
  await page.waitForFunction(() => /replayed/.test(document.getElementById("dead-letters-list")?.textContent ?? ""));
});

test("connect by token: a refused token is shown beside its field", async () => {
  const { page } = s;
  await visit("/console");
  await page.waitForSelector("#connections-body tr");
  await page.fill("#token-name", "By token");
  await page.fill("#access-token", "wrong-token");
  await page.click("#token-form button[type=submit]");
  await page.waitForFunction(() => /401/.test(document.getElementById("access-token-error")?.textContent ?? ""));
  assert.equal(await page.getAttribute("#access-token", "aria-invalid"), "true");
});

test("keyboard: a skip link first, tabs move with the arrow keys, focus is visible", async () => {
  const { page } = s;
  await visit(`/console/connections/${s.connectionId}`);
  await page.waitForFunction(
    (name) => document.getElementById("connection-title")?.textContent === name,
    CONNECTION_NAME,
  );
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Skip to content");
  await page.focus("#tab-connection");
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-source");
  assert.equal(await page.getAttribute("#tab-source", "aria-selected"), "true");
  assert.equal(await page.isVisible("#panel-source"), true);
  const outline = await page.evaluate(
    () => getComputedStyle(/** @type {Element} */ (document.activeElement)).outlineStyle,
  );
  assert.notEqual(outline, "none", "the focused tab shows an outline");
  await page.keyboard.press("End");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-summary");
});

test("the API reference's nonce'd scripts run under its CSP (the CDN bundle stubbed: no internet here)", async () => {
  const { page } = s;
  await page.route("https://cdn.jsdelivr.net/**", (route) =>
    route.fulfill({
      contentType: "text/javascript",
      body: "window.Scalar = { createApiReference: (selector, config) => { document.querySelector(selector).textContent = 'reference of ' + config.url; } };",
    }),
  );
  await visit("/docs");
  await page.waitForFunction(() => document.getElementById("app")?.textContent === "reference of /openapi.json");
  await page.unroute("https://cdn.jsdelivr.net/**");
});

test("no page broke its Content-Security-Policy or threw", () => {
  assert.deepEqual(s.violations, []);
});
