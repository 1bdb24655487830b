/** Tags: list, create-or-get by name (case-insensitive), and tagging/untagging contacts. */
import { Hono } from "hono";
import type { SimCore } from "../core";
import { IntercomError, invalid, resourceNotFound } from "../errors";
import { bodyObject, rejectUnknownKeys, type SimEnv } from "../http";
import { numericId } from "../ids";
import { liveContact } from "../lookup";
import { tagJson } from "../payloads";
import type { ContactRecord, TagRecord } from "../types";
import type { Workspace } from "../workspace";

function tagById(ws: Workspace, id: unknown): TagRecord {
  const tag = typeof id === "string" || typeof id === "number" ? ws.tags.get(String(id)) : undefined;
  if (!tag) throw resourceNotFound();
  return tag;
}

function uniqueTagId(ws: Workspace): string {
  let id = numericId();
  while (ws.tags.has(id)) id = numericId();
  return id;
}

/** `contact.user.tag.created`, `contact.lead.tag.deleted`, …: item `{type: "contact_tag", created_at, tag, contact}`. */
function notifyTagging(
  core: SimCore,
  ws: Workspace,
  contact: ContactRecord,
  tag: TagRecord,
  change: "created" | "deleted",
): void {
  core.notify(ws.appId, `contact.${contact.role}.tag.${change}`, {
    type: "contact_tag",
    created_at: core.nowSeconds(),
    tag: tagJson(tag),
    contact: core.webhookContactJson(ws, contact),
  });
}

/** `/tags` and `/contacts/{id}/tags`. */
export function tagRoutes(core: SimCore) {
  return new Hono<SimEnv>()
    .get("/tags", (c) => c.json({ type: "list", data: [...c.get("ws").tags.values()].map((tag) => tagJson(tag)) }))
    .post("/tags", (c) => {
      const ws = c.get("ws");
      const body = bodyObject(c);
      // Bulk tagging of companies/users through this endpoint is not simulated.
      rejectUnknownKeys(body, new Set(["name", "id"]));
      const name = typeof body.name === "string" ? body.name.trim() : "";
      if (name === "") throw invalid("invalid tag parameters");
      if (body.id !== undefined) {
        const tag = tagById(ws, body.id);
        const renamed = { ...tag, name };
        ws.putTag(renamed, tag.name);
        return c.json(tagJson(renamed));
      }
      const existing = ws.tagByName(name);
      if (existing) return c.json(tagJson(existing));
      const tag = { id: uniqueTagId(ws), name };
      ws.putTag(tag);
      return c.json(tagJson(tag));
    })
    .get("/contacts/:id/tags", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      return c.json({ type: "list", data: ws.tagIdsOf(contact.id).map((id) => tagJson(tagById(ws, id))) });
    })
    .post("/contacts/:id/tags", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      const tagId = bodyObject(c).id;
      if (tagId === undefined || tagId === null || tagId === "")
        throw new IntercomError(400, "parameter_not_found", "tag not specified");
      const tag = tagById(ws, tagId);
      let applied = ws.taggings.get(contact.id);
      if (!applied) ws.taggings.set(contact.id, (applied = new Map()));
      let appliedAt = applied.get(tag.id);
      if (appliedAt === undefined) {
        appliedAt = core.nowSeconds();
        applied.set(tag.id, appliedAt);
        notifyTagging(core, ws, contact, tag, "created");
      }
      return c.json(tagJson(tag, { at: appliedAt, adminId: ws.admin.id }));
    })
    .delete("/contacts/:id/tags/:tag_id", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      const tag = tagById(ws, c.req.param("tag_id"));
      // A tag that exists but is not on this contact: the simulator answers 404 "Resource Not Found".
      if (!ws.taggings.get(contact.id)?.delete(tag.id)) throw resourceNotFound();
      notifyTagging(core, ws, contact, tag, "deleted");
      return c.json(tagJson(tag));
    });
}
