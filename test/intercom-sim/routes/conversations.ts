/** `POST /conversations/search`: the contact-initiated conversations the simulator stores (sim.emit makes them). */
import { Hono } from "hono";
import { invalid } from "../errors";
import { bodyObject, rejectUnknownKeys, type SimEnv } from "../http";
import { conversationJson } from "../payloads";
import { type FieldKind, matches, pagesJson, parsePagination, parseQuery } from "../search";
import type { ConversationRecord } from "../types";

/** The searchable fields the simulator knows (Intercom has many more; a query on another is a 400). */
const FIELDS: Record<string, FieldKind> = {
  id: "text",
  created_at: "date",
  updated_at: "date",
  "source.delivered_as": "text",
  "source.author.type": "text",
  contact_ids: "text",
};

function fieldValue(conversation: ConversationRecord, role: string, field: string): unknown {
  switch (field) {
    case "id":
      return conversation.id;
    case "created_at":
    case "updated_at":
      return conversation.created_at;
    case "source.delivered_as":
      return "customer_initiated";
    case "source.author.type":
      return role;
    case "contact_ids":
      return conversation.contact_id;
  }
  return null;
}

/** `/conversations/search`: results newest first **(sim: Intercom documents no order)**, offset cursors. */
export function conversationRoutes() {
  return new Hono<SimEnv>().post("/conversations/search", (c) => {
    const ws = c.get("ws");
    const body = bodyObject(c);
    rejectUnknownKeys(body, new Set(["query", "pagination"]));
    if (body.query === undefined) throw invalid("query is required");
    const query = parseQuery(body.query, (field) => FIELDS[field]);
    const page = parsePagination(body.pagination);
    const hits: Array<{ conversation: ConversationRecord; json: ReturnType<typeof conversationJson> }> = [];
    for (const conversation of ws.conversations.values()) {
      // The contact may be gone since (deleted): its conversations are not shown.
      const contact = ws.contacts.get(conversation.contact_id);
      if (!contact) continue;
      if (!matches(query, (field) => fieldValue(conversation, contact.role, field))) continue;
      hits.push({
        conversation,
        json: conversationJson(contact, {
          id: conversation.id,
          partId: conversation.part_id,
          createdAt: conversation.created_at,
          body: conversation.body,
          appId: ws.appId,
        }),
      });
    }
    hits.sort(
      (a, b) =>
        b.conversation.created_at - a.conversation.created_at || b.conversation.id.localeCompare(a.conversation.id),
    );
    return c.json({
      type: "conversation.list",
      conversations: hits.slice(page.offset, page.offset + page.perPage).map((hit) => hit.json),
      total_count: hits.length,
      pages: pagesJson(page, hits.length),
    });
  });
}
