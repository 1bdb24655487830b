/**
 * One wide webhook payload without a simulator: a contact or company item (or a whole notification) with 100 custom
 * attributes, every observed field, 12 tags and 12 companies (so embedded lists have `has_more`). Deterministic for a
 * seed; ids are made up, so the receiving side meets them for the first time.
 */
import { attachmentCompanyJson, webhookCompanyJson, webhookContactJson } from "../payloads";
import { seededRandom } from "../random";
import type { NotificationEnvelope, Role, TagRecord } from "../types";
import { envelope } from "../webhooks";
import {
  Draw,
  WIDE_ATTRIBUTES,
  WIDE_TAG_NAMES,
  wideAttributeDefinitions,
  wideCompanyRecord,
  wideContactRecord,
  wideSegments,
} from "./data";

export interface WidePayloadOptions {
  /** The workspace the item belongs to (default `wide0001`). */
  app_id?: string;
  /** Seed of the data (default 1). */
  seed?: number;
  /** Custom attributes (default 100). */
  attributes?: number;
}

const DEFAULT_APP_ID = "wide0001";
/** Tags and companies on a wide contact: more than the 10 Intercom embeds. */
const LINKS = 12;

const drawFor = (options: WidePayloadOptions) => new Draw(seededRandom(options.seed ?? 1));

/** A wide Contact as `contact.*` webhooks carry it (ISO times, `formatted_phone`, …). */
export function wideContactItem(options: WidePayloadOptions & { role?: Role } = {}) {
  const draw = drawFor(options);
  const contact = wideContactRecord(draw, {
    id: draw.hex(24),
    index: 1,
    role: options.role ?? "user",
    tag: `s${options.seed ?? 1}`,
    attributes: wideAttributeDefinitions("contact", options.attributes ?? WIDE_ATTRIBUTES),
    adminId: String(draw.int(1e6, 9e6)),
  });
  return webhookContactJson(contact, {
    appId: options.app_id ?? DEFAULT_APP_ID,
    tagIds: Array.from({ length: LINKS }, () => String(draw.int(1e6, 9e6))),
    companyIds: Array.from({ length: LINKS }, () => draw.hex(24)),
  });
}

function wideCompany(options: WidePayloadOptions) {
  const draw = drawFor(options);
  const tags: TagRecord[] = WIDE_TAG_NAMES.slice(0, 3).map((name) => ({ id: String(draw.int(1e6, 9e6)), name }));
  const segments = wideSegments(draw, Math.floor(Date.UTC(2025, 11, 1) / 1000));
  const company = wideCompanyRecord(draw, {
    id: draw.hex(24),
    index: 1,
    tag: `s${options.seed ?? 1}`,
    attributes: wideAttributeDefinitions("company", options.attributes ?? WIDE_ATTRIBUTES),
    tagIds: tags.map((t) => t.id),
    segmentIds: segments.map((s) => s.id),
  });
  company.plan ??= "Pro";
  const links = {
    appId: options.app_id ?? DEFAULT_APP_ID,
    userCount: draw.int(1, 5000),
    planId: String(draw.int(1e5, 9e5)),
    tags: tags.filter((t) => company.tag_ids.includes(t.id)),
    segments: segments.filter((s) => company.segment_ids.includes(s.id)),
  };
  return { company, links };
}

/** A wide Company as `company.created|updated` webhooks carry it. */
export function wideCompanyItem(options: WidePayloadOptions = {}) {
  const { company, links } = wideCompany(options);
  return webhookCompanyJson(company, links);
}

/**
 * A whole notification (unsigned envelope) for a contact topic whose item is the contact (`contact.user.updated`,
 * `contact.lead.created`, …), `company.created|updated`, or `company.contact.attached|detached`.
 */
export function wideNotification(topic: string, options: WidePayloadOptions = {}): NotificationEnvelope {
  const appId = options.app_id ?? DEFAULT_APP_ID;
  const now = Math.floor(Date.now() / 1000);
  if (topic === "company.created" || topic === "company.updated")
    return envelope(appId, topic, wideCompanyItem(options), now);
  if (topic === "company.contact.attached" || topic === "company.contact.detached") {
    const { company, links } = wideCompany(options);
    return envelope(
      appId,
      topic,
      { company: attachmentCompanyJson(company, links), contact: wideContactItem(options) },
      now,
    );
  }
  // A lead that signed up is a user by the time the notification is sent.
  const role =
    topic === "contact.lead.signed_up" ? "user" : (/^contact\.(user|lead)\./.exec(topic)?.[1] as Role | undefined);
  if (topic.startsWith("contact.") && !topic.includes(".tag.") && topic !== "contact.deleted")
    return envelope(appId, topic, wideContactItem({ ...options, role: role ?? "user" }), now);
  throw new Error(`No wide item for topic '${topic}'`);
}
