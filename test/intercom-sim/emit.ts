/**
 * Notifications requested by tests (`sim.emit`, `POST /_sim/webhooks/emit`): things that happen inside Intercom
 * without the connector's doing (a chat, a merge, a deletion in the UI). Deletions and merges change the state too.
 */
import type { SimCore } from "./core";
import { companyNotFound, IntercomError, invalid, userNotFound } from "./errors";
import { numericId } from "./ids";
import { mergeContacts } from "./merge";
import { attachmentCompanyJson, conversationJson, deletedCompanyJson, deletedContactJson } from "./payloads";
import type { CompanyRecord, ContactRecord, EmitRequest, NotificationEnvelope } from "./types";
import type { Workspace } from "./workspace";

function requireContact(ws: Workspace, id: unknown): ContactRecord {
  if (typeof id !== "string") throw invalid("contact_id is required for this topic");
  const contact = ws.contacts.get(id);
  if (!contact) throw userNotFound();
  return contact;
}

function requireCompany(ws: Workspace, id: unknown): CompanyRecord {
  if (typeof id !== "string") throw invalid("company_id is required for this topic");
  const company = ws.companies.get(id);
  if (!company) throw companyNotFound();
  return company;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The `data.item` for a topic, applying deletions and merges to the state. */
function itemFor(core: SimCore, ws: Workspace, request: EmitRequest): unknown {
  const { topic } = request;
  switch (topic) {
    case "ping":
      return { type: "ping", message: request.message ?? "Hello from the Intercom simulator" };
    case "conversation.user.created": {
      const contact = requireContact(ws, request.contact_id);
      const createdAt = request.created_at ?? core.nowSeconds();
      if (!Number.isSafeInteger(createdAt)) throw invalid("created_at must be Unix seconds");
      // Stored, so that the conversation search finds the same conversation later.
      const conversation = {
        id: numericId(),
        part_id: numericId(),
        contact_id: contact.id,
        created_at: createdAt,
        body: `<p>${escapeHtml(request.message ?? "Hi! I have a question.")}</p>`,
      };
      ws.conversations.set(conversation.id, conversation);
      return conversationJson(contact, {
        id: conversation.id,
        partId: conversation.part_id,
        createdAt,
        body: conversation.body,
        appId: ws.appId,
      });
    }
    case "contact.merged": {
      // As recorded, the item is the survivor alone, without the merged_from Intercom documents.
      const into = requireContact(ws, request.contact_id);
      if (request.from_contact_id === undefined) return core.webhookContactJson(ws, into);
      const from = requireContact(ws, request.from_contact_id);
      return core.webhookContactJson(ws, mergeContacts(core, ws, from, into));
    }
    case "contact.deleted": {
      const contact = requireContact(ws, request.contact_id);
      ws.removeContact(contact);
      return deletedContactJson(contact);
    }
    case "company.deleted": {
      const company = requireCompany(ws, request.company_id);
      ws.removeCompany(company);
      return deletedCompanyJson(company);
    }
    case "company.created":
    case "company.updated":
      return core.webhookCompanyJson(ws, requireCompany(ws, request.company_id));
    case "company.contact.attached":
    case "company.contact.detached": {
      const company = requireCompany(ws, request.company_id);
      return {
        company: attachmentCompanyJson(company, core.companyLinks(ws, company)),
        contact: core.webhookContactJson(ws, requireContact(ws, request.contact_id)),
      };
    }
  }
  // Any other contact topic whose item is the contact itself (created, updated, archived, signed_up, …).
  if (topic.startsWith("contact.") && !topic.includes(".tag."))
    return core.webhookContactJson(ws, requireContact(ws, request.contact_id));
  throw invalid(`The simulator cannot build an item for '${topic}': pass one as 'item'`);
}

/** Queues the requested notification; null when webhooks are off or the topic is not subscribed. */
export function emit(core: SimCore, request: EmitRequest): NotificationEnvelope | null {
  if (
    typeof request !== "object" ||
    request === null ||
    typeof request.app_id !== "string" ||
    typeof request.topic !== "string"
  ) {
    throw new IntercomError(400, "parameter_invalid", "emit needs app_id and topic");
  }
  const ws = core.workspace(request.app_id);
  const item = request.item !== undefined ? request.item : itemFor(core, ws, request);
  return core.notify(ws.appId, request.topic, item);
}
