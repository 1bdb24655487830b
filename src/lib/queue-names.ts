/** The connector's queues, as wrangler.toml names them (a leaf module: consumers and the dispatcher both read it). */
export const QUEUE_NAMES = {
  inbound: "intercom-inbound",
  outbound: "intercom-outbound",
  jobs: "intercom-jobs",
  inboundDead: "intercom-inbound-dlq",
  outboundDead: "intercom-outbound-dlq",
  jobsDead: "intercom-jobs-dlq",
} as const;

/** Whether `queue` is one of the dead-letter queues. */
export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith("-dlq");
}

/** The queue a dead-letter queue's messages were first sent to. */
export function originalQueue(deadLetterQueue: string): string {
  return deadLetterQueue.replace(/-dlq$/, "");
}
