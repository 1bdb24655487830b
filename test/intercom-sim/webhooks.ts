/** Webhook notifications: Intercom's envelope, the outbox of pending ones, and signed delivery to the receiver. */
import { hubSignature } from "./signature";
import type { DeliveryRecord, NotificationEnvelope } from "./types";

/** Builds a notification as Intercom sends it the first time (`delivery_attempts: 1`). */
export function envelope(appId: string, topic: string, item: unknown, createdAt: number): NotificationEnvelope {
  return {
    type: "notification_event",
    app_id: appId,
    data: { type: "notification_event_data", item },
    links: {},
    // Intercom sends ping with a null id: it is not an idempotent notification.
    id: topic === "ping" ? null : `notif_${crypto.randomUUID()}`,
    topic,
    delivery_status: "pending",
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: createdAt,
    created_at: createdAt,
    self: null,
  };
}

export interface DeliveryTarget {
  url: string;
  secret: string;
  fetch: (request: Request) => Promise<Response>;
  nowMs: number;
}

const encoder = new TextEncoder();

/** Pending notifications in creation order, and a log of every POST made. */
export class Outbox {
  private pending: NotificationEnvelope[] = [];
  private readonly deliveries: DeliveryRecord[] = [];
  /** Attempts made per notification id, so a redelivery counts up. */
  private readonly attempts = new Map<string, number>();

  add(notification: NotificationEnvelope): void {
    this.pending.push(notification);
  }

  get size(): number {
    return this.pending.length;
  }

  peek(): NotificationEnvelope[] {
    return [...this.pending];
  }

  /** Removes and returns every pending notification. */
  take(): NotificationEnvelope[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  log(): DeliveryRecord[] {
    return [...this.deliveries];
  }

  clear(): void {
    this.pending = [];
    this.deliveries.length = 0;
    this.attempts.clear();
  }

  /**
   * POSTs one notification, signed, and records the outcome. `attempt` defaults to one more than the attempts
   * already made with this id; the id never changes, as with Intercom's retries. Returns the receiver's status (0 if
   * the POST failed).
   */
  async deliver(notification: NotificationEnvelope, target: DeliveryTarget, attempt?: number): Promise<number> {
    const attempts = attempt ?? (notification.id === null ? 1 : (this.attempts.get(notification.id) ?? 0) + 1);
    if (notification.id !== null) this.attempts.set(notification.id, attempts);
    const body = encoder.encode(JSON.stringify({ ...notification, delivery_attempts: attempts }));
    const record: DeliveryRecord = {
      id: notification.id,
      topic: notification.topic,
      app_id: notification.app_id,
      delivery_attempts: attempts,
      status: 0,
      at: target.nowMs,
    };
    this.deliveries.push(record);
    try {
      const response = await target.fetch(
        new Request(target.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "User-Agent": "intercom-parrot-service-client/1.0",
            "X-Hub-Signature": await hubSignature(target.secret, body),
          },
          body,
        }),
      );
      // Drain the body so the connection (or msw's mock) is released.
      await response.arrayBuffer();
      record.status = response.status;
    } catch (err) {
      record.error = String(err);
    }
    return record.status;
  }
}
