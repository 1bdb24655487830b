/**
 * Data events: `POST /events`, answered 202 with an empty body, de-duplicated as Intercom does; `GET /events`, a
 * contact's events of the last 90 days, newest first, `pages.next` going further back.
 */
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

/** Intercom lists only events less than 90 days old. */
const LIST_WINDOW_SECONDS = 90 * 86_400;
const DEFAULT_LIST_PER_PAGE = 50;

/** The contact of `GET /events`: `intercom_user_id` (any role), else `user_id` or `email` (users only). */
function listedContact(ws: Workspace, query: Record<string, string | undefined>): ContactRecord {
  if (query.intercom_user_id) return liveContact(ws, query.intercom_user_id);
  const body: Record<string, unknown> = {};
  if (query.user_id) body.user_id = query.user_id;
  else if (query.email) body.email = query.email;
  else throw invalid("one of intercom_user_id, user_id or email is required");
  return eventContact(ws, body);
}

/** `POST /events` and `GET /events`. */
export function eventRoutes(core: SimCore) {
  return new Hono<SimEnv>()
    .get("/events", (c) => {
      const ws = c.get("ws");
      const query = c.req.query();
      if (query.type !== "user") throw invalid("type must be user");
      if (query.summary === "true") throw invalid("summary is not simulated");
      const contact = listedContact(ws, query);
      const perPage = query.per_page === undefined ? DEFAULT_LIST_PER_PAGE : Number(query.per_page);
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > 250) throw invalid("per_page must be 1 to 250");
      const before = query.before === undefined ? Number.POSITIVE_INFINITY : Number(query.before);
      const oldest = core.nowSeconds() - LIST_WINDOW_SECONDS;
      // Newest first; `before` is in ms, as in Intercom's links **(sim: events of one second across a page boundary
      // are cut)**.
      const listed = ws.events
        .filter((e) => e.contact_id === contact.id && e.created_at >= oldest && e.created_at * 1000 < before)
        .sort((a, b) => b.created_at - a.created_at);
      const page = listed.slice(0, perPage);
      const last = page.at(-1);
      const next =
        listed.length > perPage && last
          ? `https://api.intercom.io/events?type=user&intercom_user_id=${contact.id}&per_page=${perPage}&before=${last.created_at * 1000}`
          : null;
      return c.json({
        type: "event.list",
        events: page.map((e) => webhookEventJson(e, contact)),
        pages: next ? { next } : {},
      });
    })
    .post("/events", (c) => {
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
