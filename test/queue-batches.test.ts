import { describe, expect, it } from "vitest";
import { messageBytes, planBatches, QUEUE_LIMITS, QueueMessageTooLargeError } from "../src/lib/queue-batches";

describe("sending within the Queues limits", () => {
  it("splits by 100 messages", () => {
    const batches = planBatches(Array.from({ length: 250 }, (_, i) => ({ i })));
    expect(batches.map((batch) => batch.length)).toEqual([100, 100, 50]);
  });

  it("splits by bytes: no sendBatch holds more than 256 KB of messages", () => {
    const big = { text: "x".repeat(60_000) };
    const batches = planBatches(Array.from({ length: 9 }, () => big));
    expect(batches.map((batch) => batch.length)).toEqual([4, 4, 1]);
    for (const batch of batches) {
      expect(batch.reduce((sum, body) => sum + messageBytes(body), 0)).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);
    }
  });

  it("refuses a message over 128 KB before anything is sent", () => {
    expect(() => planBatches([{ ok: true }, { text: "x".repeat(130_000) }])).toThrow(QueueMessageTooLargeError);
  });
});
