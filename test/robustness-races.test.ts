/**
 * Races and order on the source (issue 8, point 3): redelivered and reordered webhooks, through the real route, the
 * real queue and the real consumer, end with the newest values, one user, and each notification processed once.
 *
 * The other races of point 3 have their tests where their code is: concurrent settings PATCHes in
 * test/connections-settings.test.ts ("concurrent PATCHes of different fields all land"), 50 concurrent first syncs
 * of one user in test/destination-sync.test.ts ("50 concurrent first syncs of one user make exactly one contact"),
 * two racing deliveries of one notification in test/source-consumer.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Rng } from "./helpers/robustness";
import {
  type Envelope,
  notification,
  postWebhook,
  sourceWorkspace,
  syncLogCountsOf,
  syncLogsOf,
  waitFor,
} from "./helpers/webhooks";

/** A full snapshot of one contact at version `v` (Intercom sends the whole object with each update). */
function version(
  appId: string,
  contactId: string,
  v: number,
  topic: "contact.user.created" | "contact.user.updated",
): Envelope {
  const envelope = notification(topic, {
    appId,
    id: `notif_race_${contactId}_${v}`,
    createdAt: 1_772_450_000 + v,
    edit: (item) => {
      item.id = contactId;
      item.role = "user";
      item.external_id = `race-${contactId}`;
      item.email = `race-${contactId}@example.com`;
      item.name = `Name v${v}`;
      item.phone = `+1415555${String(v).padStart(4, "0")}`;
      item.updated_at = new Date(Date.UTC(2026, 2, 2, 10, 0, v, 100 * v)).toISOString();
    },
  });
  return envelope;
}

/** Delivers each envelope (a redelivery keeps its id and counts its attempts up), all at once. */
async function deliverAll(envelopes: Envelope[]): Promise<void> {
  const attempts = new Map<string, number>();
  const answers = await Promise.all(
    envelopes.map((envelope) => {
      const attempt = (attempts.get(envelope.id!) ?? 0) + 1;
      attempts.set(envelope.id!, attempt);
      return postWebhook({ ...envelope, delivery_attempts: attempt });
    }),
  );
  expect(answers.map((answer) => answer.status)).toEqual(envelopes.map(() => 200));
}

describe("redelivered and reordered webhooks", () => {
  for (const seed of [1, 2, 3]) {
    it(`one contact, a create and 5 updates delivered shuffled in two waves, 3 of them twice: newest wins, one user, each once (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const ws = await sourceWorkspace();
      const contactId = `${"rc".padEnd(16, String(seed))}${rng.hex(8)}`;
      const versions = [
        version(ws.appId, contactId, 0, "contact.user.created"),
        ...[1, 2, 3, 4, 5].map((v) => version(ws.appId, contactId, v, "contact.user.updated")),
      ];
      const redelivered = rng.shuffle(versions).slice(0, 3);
      const deliveries = rng.shuffle([...versions, ...redelivered]);
      // Two waves, so some reorderings span queue batches (a batch waits up to 1 s), others sit in one batch.
      const cut = rng.int(3, deliveries.length - 3);
      await deliverAll(deliveries.slice(0, cut));
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      await deliverAll(deliveries.slice(cut));

      const keys = versions.map((envelope) => `${ws.appId}:${envelope.id}`);
      const processed = async () => {
        const { results } = await env.DB.prepare(
          `SELECT key FROM processed_notifications WHERE key IN (${keys.map(() => "?").join(",")})`,
        )
          .bind(...keys)
          .all<{ key: string }>();
        return results.map((row) => row.key);
      };
      // Every delivery accounted for: 6 first deliveries applied (captured, or stale when older), each a row, and 3
      // duplicates, counted (not logged row by row).
      const rows = await waitFor(
        async () => {
          const logged = (await syncLogsOf(ws.connection.id)).filter((row) => row.action?.startsWith("contact.user."));
          const settled = logged.filter((row) => row.outcome !== "failed");
          const duplicates = (await syncLogCountsOf(ws.connection.id))["in.duplicate"] ?? 0;
          return (await processed()).length === 6 && settled.length + duplicates >= 9 ? logged : null;
        },
        { timeoutMs: 25_000, intervalMs: 100, what: "every delivery to be processed" },
      );
      const outcomes = rows.map((row) => row.outcome).filter((outcome) => outcome !== "failed");
      expect((await syncLogCountsOf(ws.connection.id))["in.duplicate"]).toBe(3);
      expect(outcomes).toHaveLength(6);
      expect(outcomes.filter((outcome) => !["captured", "stale", "skipped"].includes(outcome))).toEqual([]);
      expect((await processed()).sort()).toEqual([...keys].sort());

      // Newest wins, whatever came last.
      const user = await ws.lookup({ user_id: `race-${contactId}` });
      expect(user.status).toBe(200);
      expect(user.body).toMatchObject({
        user_id: `race-${contactId}`,
        email: `race-${contactId}@example.com`,
        properties: { full_name: "Name v5", phone: "+14155550005" },
      });
      const { results: users } = await env.DB.prepare("SELECT user_id FROM users WHERE workspace_id = ?")
        .bind(ws.workspaceId)
        .all();
      expect(users).toEqual([{ user_id: `race-${contactId}` }]);
      const link = await env.DB.prepare(
        "SELECT remote_updated_at FROM intercom_links WHERE connection_id = ? AND intercom_id = ?",
      )
        .bind(ws.connection.id, contactId)
        .first<{ remote_updated_at: number }>();
      expect(link!.remote_updated_at).toBe(Date.parse(versions[5]!.data.item.updated_at as string));
    });
  }
});
