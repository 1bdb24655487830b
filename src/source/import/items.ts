/** An import's items as INBOUND messages (pure). */
import { IMPORT_COMPANIES_FIELD } from "../capture/import-memberships";
import type { InboundMessage } from "../inbound-message";
import { sweptNotification } from "../sweep/feed";

/** Company ids one INBOUND message of an imported contact carries: its reads stay few (two per message). */
export const COMPANIES_PER_MESSAGE = 50;

/**
 * An item an import read as INBOUND messages (pure): projected like the sweep's, `origin: "import"` (no idempotency
 * key, outcomes counted), a contact with the ids of its companies, so its memberships come in the same message. A
 * contact in more than `COMPANIES_PER_MESSAGE` companies comes in several messages, the same state each time (the
 * second capture is an echo).
 */
export function importedItemMessages(
  appId: string,
  kind: "contact" | "company",
  item: Record<string, unknown>,
  updatedAt: number,
  now: number,
  companyIds: readonly string[] = [],
): InboundMessage[] {
  const base = sweptNotification(appId, kind, item, updatedAt, now);
  const message = (ids: readonly string[] | null, part: number): InboundMessage => ({
    ...base,
    origin: "import",
    notification: {
      ...base.notification,
      id: `import:${base.notification.id}${part > 0 ? `:${part}` : ""}`,
      item: ids === null ? base.notification.item : { ...base.notification.item, [IMPORT_COMPANIES_FIELD]: ids },
    },
  });
  if (kind === "company" || companyIds.length === 0) return [message(kind === "contact" ? [] : null, 0)];
  const messages: InboundMessage[] = [];
  for (let start = 0; start < companyIds.length; start += COMPANIES_PER_MESSAGE) {
    messages.push(message(companyIds.slice(start, start + COMPANIES_PER_MESSAGE), messages.length));
  }
  return messages;
}
