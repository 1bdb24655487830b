/**
 * A queue producer binding that checks production's Queues limits before sending: 128 KB per message, 100 messages
 * and 256 KB per `sendBatch`. Local queues refuse oversized sends only with "Unknown Internal Error (15000)", and
 * count a batch's bytes more loosely than production.
 */
import { crossed, currentBudget } from "./invocation";
import { PLATFORM_LIMITS, utf8Length } from "./limits";

/**
 * The bytes of one message body. Production measures the serialized message (structured clone by default); its
 * JSON, in UTF-8, is the stand-in: the same size for the plain-data messages this Worker sends.
 */
export function messageBytes(body: unknown): number {
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  if (typeof body === "string") return utf8Length(body);
  return utf8Length(JSON.stringify(body) ?? "");
}

function checkMessage(body: unknown, what: string): number {
  const bytes = messageBytes(body);
  if (bytes > PLATFORM_LIMITS["queues.message_bytes"].max) crossed("queues.message_bytes", bytes, what);
  return bytes;
}

/** Wraps the producer binding `name` so that `send` and `sendBatch` are checked and counted as subrequests. */
export function limitedQueue<T extends Queue<never>>(queue: T, name: string): T {
  return new Proxy(queue, {
    get(target, property) {
      if (property === "send") {
        return async (body: unknown, options?: QueueSendOptions) => {
          const what = `${name}.send`;
          checkMessage(body, what);
          currentBudget()?.subrequest(what);
          return target.send(body as never, options);
        };
      }
      if (property === "sendBatch") {
        return async (messages: Iterable<MessageSendRequest<unknown>>, options?: QueueSendBatchOptions) => {
          const list = [...messages];
          const what = `${name}.sendBatch`;
          if (list.length > PLATFORM_LIMITS["queues.batch_messages"].max) {
            crossed("queues.batch_messages", list.length, what);
          }
          let total = 0;
          for (const message of list) total += checkMessage(message.body, `${what} (one message)`);
          if (total > PLATFORM_LIMITS["queues.batch_bytes"].max) {
            crossed("queues.batch_bytes", total, `${what} of ${list.length} messages`);
          }
          currentBudget()?.subrequest(what);
          return target.sendBatch(list as never, options);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
