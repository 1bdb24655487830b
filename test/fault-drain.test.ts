import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, intercomRest, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";
import { WIDE_CONTACT_ATTRIBUTES, WIDE_CONTACT_MAPPINGS, wideProperties } from "./helpers/wide";

// Faults everywhere, then a full drain: every user in the filter matches the simulator field by field, no contact is
// duplicated, every action ran exactly once, and whatever exhausted its retries is a dead letter that replay heals.
// Every user is wide (100 mapped custom attributes of mixed types, 255-character unicode strings) and the platform
// limits layer is on, as in production. `npm test` runs a short version; `npm run test:soak` the full one (≥ 500
// users, latency up to 2 s).
declare const __SOAK__: boolean;
const SOAK = typeof __SOAK__ !== "undefined" && __SOAK__;
const USERS = SOAK ? 500 : 40;
const MAX_LATENCY_MS = SOAK ? 2_000 : 100;
const DRAIN_TIMEOUT_MS = SOAK ? 20 * 60_000 : 120_000;

const sim = useIntercomSim();

afterEach(() => {
  env.CHAOS_OUTBOUND_FAILURE_RATE = undefined;
});

interface Expected {
  userId: string;
  email: string;
  name: string;
  phone: string;
  plan: string;
  active: boolean;
  accounts: Set<string>;
  tagged: boolean;
  event: boolean;
}

async function api(workspaceId: string, method: string, path: string, body?: unknown) {
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: await authHeaders({ workspaceId, scope: "admin ingest" }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status >= 500) throw new Error(`${method} ${path} answered ${response.status}`);
  return { status: response.status, json: (await response.json()) as any };
}

/** Waits until the simulator's journal has not grown for `quietMs` (nothing left to send). */
async function drained(quietMs: number, timeoutMs: number) {
  let last = -1;
  let since = Date.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seq = sim.journal().at(-1)?.seq ?? 0;
    if (seq !== last) {
      last = seq;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    if (Date.now() > deadline) throw new Error("the workload did not drain in time");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function inParallel<T>(items: T[], width: number, run: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(run));
}

describe(`fault drain (${USERS} users)`, () => {
  it(
    "converges under 5xx, 429, latency and failing consumer batches",
    async () => {
      const { workspace, workspaceId, connection } = await connectDestination(sim, {
        segments: ["active"],
        mappings: {
          contact: [{ from: "plan", to: "custom_attributes.plan", type: "string" }, ...WIDE_CONTACT_MAPPINGS],
          company: [],
        },
      });
      sim.seedWideWorkspace(workspace.app_id, { contacts: 0, companies: 0 });
      await intercomRest(workspace, "POST", "/data_attributes", {
        name: "plan",
        model: "contact",
        data_type: "string",
      });
      sim.configure({
        rate_limit: { window_ms: 1_000, limit: 200 },
        faults: {
          error_rate: 0.2,
          rate_limit_rate: 0.05,
          latency_ms: { min: 0, max: MAX_LATENCY_MS },
          fault_phase: "after",
        },
        seed: 42,
      });
      env.CHAOS_OUTBOUND_FAILURE_RATE = "0.2";

      const accounts = Math.max(2, Math.floor(USERS / 10));
      for (let a = 0; a < accounts; a++)
        await api(workspaceId, "PUT", `/v1/accounts/acct-${a}`, { name: `Account ${a}` });
      const expected: Expected[] = Array.from({ length: USERS }, (_, i) => ({
        userId: `u-${i}`,
        email: `user${i}@example.com`,
        name: `User ${i}`,
        phone: `+1 555 ${String(i).padStart(4, "0")}`,
        plan: "free",
        active: i % 5 !== 0,
        accounts: new Set([`acct-${i % accounts}`]),
        // Actions create the contact even outside the filter (they are explicit requests): only active users get them.
        tagged: i % 5 !== 0 && i % 3 === 0,
        event: i % 5 !== 0 && i % 4 === 0,
      }));

      await inParallel(expected, 10, (user) =>
        api(workspaceId, "PUT", "/v1/users", {
          user_id: user.userId,
          email: user.email,
          properties: {
            full_name: `First ${user.userId}`,
            phone: user.phone,
            plan: "free",
            ...wideProperties(Number(user.userId.slice(2))),
          },
          segments: [user.active ? "active" : "inactive"],
        }),
      );
      await inParallel(expected, 10, async (user) => {
        await api(workspaceId, "PUT", `/v1/accounts/${[...user.accounts][0]}/users/${user.userId}`);
        const index = Number(user.userId.slice(2));
        if (index % 11 === 0) {
          // Linked to a second account, then unlinked again.
          await api(workspaceId, "PUT", `/v1/accounts/acct-${(index + 1) % accounts}/users/${user.userId}`);
          await api(workspaceId, "DELETE", `/v1/accounts/acct-${(index + 1) % accounts}/users/${user.userId}`);
        }
      });
      // Updates: everyone once; every 7th user a burst of 5 concurrent writes, each with its own key and a plan (the
      // last committed one wins, read back below); a no-op for everyone.
      await inParallel(expected, 10, async (user) => {
        const index = Number(user.userId.slice(2));
        if (index % 7 === 0) {
          await Promise.all(
            Array.from({ length: 5 }, (_, b) =>
              api(workspaceId, "PUT", "/v1/users", {
                user_id: user.userId,
                properties: { full_name: user.name, plan: b === 4 ? "pro" : `trial-${b}`, [`burst_${b}`]: b },
              }),
            ),
          );
          const stored = (await api(workspaceId, "GET", `/v1/users/lookup?user_id=${user.userId}`)).json.properties;
          for (let b = 0; b < 5; b++) expect(stored[`burst_${b}`]).toBe(b);
          user.plan = stored.plan;
        } else {
          user.plan = "pro";
          await api(workspaceId, "PUT", "/v1/users", {
            user_id: user.userId,
            properties: { full_name: user.name, plan: user.plan },
          });
        }
        await api(workspaceId, "PUT", "/v1/users", { user_id: user.userId, properties: { plan: user.plan } });
      });
      // A bulk import touching each account from every member at once: each writes its own key and a name.
      await Promise.all(
        expected.map((user) => {
          const account = [...user.accounts][0]!;
          return api(workspaceId, "PUT", `/v1/accounts/${account}`, {
            name: `${account} by ${user.userId}`,
            properties: { [`seen_${user.userId}`]: true },
          });
        }),
      );
      const accountNames = new Map<string, string>();
      for (let a = 0; a < accounts; a++) {
        const stored = (await api(workspaceId, "GET", `/v1/accounts/acct-${a}`)).json;
        const members = expected.filter((user) => user.accounts.has(`acct-${a}`));
        for (const user of members) expect(stored.properties[`seen_${user.userId}`]).toBe(true);
        expect(members.map((user) => `acct-${a} by ${user.userId}`)).toContain(stored.name);
        accountNames.set(`acct-${a}`, stored.name);
      }
      const actionIds: string[] = [];
      await inParallel(expected, 10, async (user) => {
        const requests = [
          ...(user.tagged
            ? [{ user_id: user.userId, type: "add_tag", tag: "VIP", idempotency_key: `tag-${user.userId}` }]
            : []),
          ...(user.event
            ? [
                {
                  user_id: user.userId,
                  type: "trigger_event",
                  event: { name: "activated", metadata: { plan: "pro" } },
                  idempotency_key: `evt-${user.userId}`,
                },
              ]
            : []),
        ];
        for (const request of requests) {
          // Sent twice, as a client retrying a timeout would.
          const [first, second] = [
            await api(workspaceId, "POST", "/v1/actions", request),
            await api(workspaceId, "POST", "/v1/actions", request),
          ];
          expect(second.json.id).toBe(first.json.id);
          actionIds.push(first.json.id);
        }
      });

      await waitFor(
        async () => {
          for (const id of actionIds)
            if ((await api(workspaceId, "GET", `/v1/actions/${id}`)).json.status === "queued") return false;
          return true;
        },
        DRAIN_TIMEOUT_MS,
        "every action finished",
      );
      await drained(3_000, DRAIN_TIMEOUT_MS);
      const served = sim.journal();
      const faults = {
        serverErrors: served.filter((e) => e.status >= 500).length,
        rateLimited: served.filter((e) => e.status === 429).length,
      };
      expect(faults.serverErrors).toBeGreaterThan(0);

      // What exhausted its retries is in the dead-letter record and the logs API; replay heals it.
      env.CHAOS_OUTBOUND_FAILURE_RATE = undefined;
      sim.configure({ faults: { error_rate: 0, rate_limit_rate: 0, latency_ms: { min: 0, max: 0 } } });
      const dead = (await api(workspaceId, "GET", `/v1/connections/${connection.id}/dead-letters?limit=200`)).json
        .items;
      const deadLogged = (
        await api(workspaceId, "GET", `/v1/connections/${connection.id}/logs?outcome=dead_letter&limit=200`)
      ).json.items;
      expect(deadLogged.length).toBe(dead.length);
      const replay = await api(workspaceId, "POST", `/v1/connections/${connection.id}/dead-letters/replay`);
      expect(replay.json.replayed).toBe(dead.length);
      // Belt and braces: a resync after the storm sends only what is still missing.
      await api(workspaceId, "POST", `/v1/connections/${connection.id}/resync`);
      await drained(3_000, DRAIN_TIMEOUT_MS);

      const state = sim.state(workspace.app_id);
      const contacts = state.contacts.filter((contact) => !contact.archived);
      const byExternalId = new Map<string, typeof contacts>();
      for (const contact of contacts)
        byExternalId.set(contact.external_id!, [...(byExternalId.get(contact.external_id!) ?? []), contact]);
      const companyIds = new Map(state.companies.map((company) => [company.id, company.company_id]));
      const mismatches: string[] = [];
      for (const user of expected) {
        const found = byExternalId.get(user.userId) ?? [];
        if (!user.active) {
          if (found.length) mismatches.push(`${user.userId}: outside the filter but in Intercom`);
          continue;
        }
        if (found.length !== 1) {
          mismatches.push(`${user.userId}: ${found.length} contacts`);
          continue;
        }
        const contact = found[0]!;
        const fields = {
          email: contact.email,
          name: contact.name,
          phone: contact.phone,
          plan: contact.custom_attributes.plan,
        };
        const want = { email: user.email, name: user.name, phone: user.phone, plan: user.plan };
        if (JSON.stringify(fields) !== JSON.stringify(want))
          mismatches.push(`${user.userId}: ${JSON.stringify(fields)} ≠ ${JSON.stringify(want)}`);
        const wide = wideProperties(Number(user.userId.slice(2)));
        const missing = WIDE_CONTACT_ATTRIBUTES.filter(
          (attribute) =>
            contact.custom_attributes[attribute.name] === undefined ||
            (attribute.data_type === "string" && contact.custom_attributes[attribute.name] !== wide[attribute.name]),
        );
        if (missing.length) mismatches.push(`${user.userId}: ${missing.length} wide attributes missing or wrong`);
        const attached = new Set(
          state.attachments.filter((a) => a.contact_id === contact.id).map((a) => companyIds.get(a.company_id)),
        );
        if ([...user.accounts].some((a) => !attached.has(a)) || attached.size !== user.accounts.size) {
          mismatches.push(`${user.userId}: companies ${[...attached].join(",")}`);
        }
        const taggings = state.taggings.filter((t) => t.contact_id === contact.id).length;
        if (taggings !== (user.tagged ? 1 : 0)) mismatches.push(`${user.userId}: ${taggings} taggings`);
        const events = state.events.filter((e) => e.contact_id === contact.id && e.event_name === "activated").length;
        if (events !== (user.event ? 1 : 0)) mismatches.push(`${user.userId}: ${events} events`);
      }
      for (const [accountId, name] of accountNames) {
        const company = state.companies.find((candidate) => candidate.company_id === accountId);
        // A company syncs while one of its members passes the segment filter (others may never reach Intercom).
        if (!expected.some((user) => user.active && user.accounts.has(accountId))) continue;
        if (company?.name !== name) mismatches.push(`${accountId}: company name ${company?.name} ≠ ${name}`);
      }
      expect(mismatches).toEqual([]);
      for (const id of actionIds) expect((await api(workspaceId, "GET", `/v1/actions/${id}`)).json.status).toBe("done");
      console.info({
        msg: "fault drain converged",
        users: USERS,
        converged: expected.filter((u) => u.active).length,
        intercom_calls: served.length,
        server_errors: faults.serverErrors,
        rate_limited: faults.rateLimited,
        dead_letters: dead.length,
      });
    },
    DRAIN_TIMEOUT_MS * 3,
  );
});
