/** Data events: `POST /events`, answered 202 with an empty body, de-duplicated as Intercom does. */
import { Hono } from "hono";
import type { SimCore } from "../core";
import { invalid, userNotFound } from "../errors";
import { bodyObject, type SimEnv } from "../http";
import { liveContact, liveUserByExternalId } from "../lookup";
import { webhookEventJson } from "../payloads";
import type { ContactRecord } from "../types";
import { eventKey, type Workspace } from "../workspace";

/** Intercom keeps the first 10 metadata keys of an event and silently drops the rest. */
const MAX_METADATA_KEYS = 10;

/** The contact an event names: Intercom `id` (any role), else `user_id` (users only), else `email` (users only). */
function eventContact(ws: Workspace, body: Record<string, unknown>): ContactRecord {
  if (typeof body.id === "string") return liveContact(ws, body.id);
  let contact: ContactRecord | undefined;
  if (typeof body.user_id === "string") {
    contact = liveUserByExternalId(ws, body.user_id);
  } else if (typeof body.email === "string") {
    // Several users may share an email: the most recently updated wins.
    contact = ws
      .contactsByEmail(body.email)
      .filter((candidate) => candidate.role === "user" && !candidate.archived)
      .sort((a, b) => b.updated_at_ms - a.updated_at_ms)[0];
  } else {
    throw invalid("An event needs one of id, user_id or email");
  }
  if (!contact) throw userNotFound();
  return contact;
}

/** `POST /events`. */
export function eventRoutes(core: SimCore) {
  return new Hono<SimEnv>().post("/events", (c) => {
    const ws = c.get("ws");
    const body = bodyObject(c);
    const eventName = body.event_name;
    if (typeof eventName !== "string" || eventName.trim() === "") throw invalid("event_name is required");
    const createdAt = body.created_at;
    if (!Number.isSafeInteger(createdAt))
      throw invalid("created_at is required and must be a Unix timestamp in seconds");
    const metadata = body.metadata ?? {};
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
      throw invalid("metadata must be an object");
    const contact = eventContact(ws, body);
    const key = eventKey(contact.id, eventName, createdAt as number);
    if (!ws.eventKeys.has(key)) {
      ws.eventKeys.add(key);
      const event = {
        id: crypto.randomUUID(),
        contact_id: contact.id,
        event_name: eventName,
        created_at: createdAt as number,
        metadata: Object.fromEntries(Object.entries(metadata).slice(0, MAX_METADATA_KEYS)),
      };
      ws.events.push(event);
      core.notify(ws.appId, "event.created", webhookEventJson(event, contact));
    }
    return c.body(null, 202);
  });
}
