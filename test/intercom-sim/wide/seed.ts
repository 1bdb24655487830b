/**
 * `sim.seedWideWorkspace()`: fills a workspace with wide, real-shaped data at once, as if it had been there for a long
 * time (no webhooks, already searchable): registered custom attributes, tags, segments, companies and contacts.
 */
import type { SimCore } from "../core";
import { IntercomError } from "../errors";
import { numericId, objectId } from "../ids";
import { seededRandom } from "../random";
import type { AttributeModel, CustomAttributeRecord } from "../types";
import type { Workspace } from "../workspace";
import {
  Draw,
  WIDE_ATTRIBUTES,
  WIDE_TAG_NAMES,
  type WideAttribute,
  wideAttributeDefinitions,
  wideCompanyRecord,
  wideContactRecord,
  wideLinkCount,
  wideSegments,
} from "./data";

export interface WideWorkspaceOptions {
  /** Contacts, users and leads together (default 200). */
  contacts?: number;
  /** How many of the contacts are leads (default a quarter). */
  leads?: number;
  /** Companies the contacts are spread over (default 40). */
  companies?: number;
  /** Custom attributes per model (default 100). */
  attributes?: number;
  /** Seed of the data (default 1); also makes external ids, emails and company ids unique to this seeding. */
  seed?: number;
}

/** What a seeding created, as Intercom ids (and the client-side ids tests look data up by). */
export interface WideWorkspaceSummary {
  app_id: string;
  /** Intercom ids of the users, then of the leads, in creation order. */
  users: string[];
  leads: string[];
  /** Intercom ids of the companies, and their `company_id`s in the same order. */
  companies: string[];
  company_ids: string[];
  /** Ids of the contact tags used. */
  tags: string[];
  attributes: Record<AttributeModel, WideAttribute[]>;
}

const DEFAULTS = { contacts: 200, companies: 40, attributes: WIDE_ATTRIBUTES, seed: 1 };

function positiveCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new IntercomError(400, "parameter_invalid", `${name} must be an integer ≥ 0`);
  return value;
}

/** Registers the wide attributes of a model; an existing one of the same name must have the same type. */
function registerAttributes(core: SimCore, ws: Workspace, model: AttributeModel, attributes: readonly WideAttribute[]) {
  const defined = ws.customAttributes[model];
  for (const { name, data_type } of attributes) {
    const existing = defined.get(name);
    if (existing && existing.data_type !== data_type) {
      throw new IntercomError(409, "conflict", `Attribute '${name}' already exists with type ${existing.data_type}`);
    }
    if (existing) continue;
    const record: CustomAttributeRecord = {
      id: Number(numericId()),
      name,
      model,
      data_type,
      description: "Wide workspace attribute",
      messenger_writable: false,
      created_at: core.nowSeconds(),
      admin_id: ws.admin.id,
    };
    defined.set(name, record);
  }
}

/** The contact tags of a wide workspace, created when missing (names are case-insensitive, as in Intercom). */
function ensureTags(ws: Workspace): string[] {
  return WIDE_TAG_NAMES.map((name) => {
    const existing = ws.tagByName(name);
    if (existing) return existing.id;
    let id = numericId();
    while (ws.tags.has(id)) id = numericId();
    ws.putTag({ id, name });
    return id;
  });
}

/** Seeds a workspace with wide data; deterministic for a seed (values, not Intercom ids). */
export function seedWideWorkspace(
  core: SimCore,
  appId: string,
  options: WideWorkspaceOptions = {},
): WideWorkspaceSummary {
  const ws = core.workspace(appId);
  const contactCount = positiveCount(options.contacts ?? DEFAULTS.contacts, "contacts");
  const leadCount = positiveCount(options.leads ?? Math.floor(contactCount / 4), "leads");
  if (leadCount > contactCount) throw new IntercomError(400, "parameter_invalid", "leads must be at most contacts");
  const companyCount = positiveCount(options.companies ?? DEFAULTS.companies, "companies");
  const attributeCount = positiveCount(options.attributes ?? DEFAULTS.attributes, "attributes");
  const seed = options.seed ?? DEFAULTS.seed;
  if (!Number.isInteger(seed)) throw new IntercomError(400, "parameter_invalid", "seed must be an integer");
  const tag = `s${seed}`;
  const draw = new Draw(seededRandom(seed));

  const attributes = {
    contact: wideAttributeDefinitions("contact", attributeCount),
    company: wideAttributeDefinitions("company", attributeCount),
  };
  registerAttributes(core, ws, "contact", attributes.contact);
  registerAttributes(core, ws, "company", attributes.company);
  const tagIds = ensureTags(ws);
  const segments = wideSegments(draw, core.nowSeconds());
  for (const segment of segments) ws.segments.set(segment.id, segment);

  const companies = Array.from({ length: companyCount }, (_, index) => {
    const company = wideCompanyRecord(draw, {
      id: "",
      index,
      tag,
      attributes: attributes.company,
      tagIds,
      segmentIds: segments.map((s) => s.id),
    });
    if (ws.companyByCompanyId(company.company_id))
      throw new IntercomError(409, "conflict", `This workspace was already seeded with seed ${seed}`);
    company.id = objectId(company.created_at_ms);
    if (company.plan !== null && !ws.planIds.has(company.plan)) ws.planIds.set(company.plan, numericId());
    ws.putCompany(company);
    return company;
  });

  const users: string[] = [];
  const leads: string[] = [];
  const userCount = contactCount - leadCount;
  for (let index = 0; index < contactCount; index++) {
    const role = index < userCount ? "user" : "lead";
    const contact = wideContactRecord(draw, {
      id: "",
      index,
      role,
      tag,
      attributes: attributes.contact,
      adminId: ws.admin.id,
    });
    if (contact.external_id !== null && ws.contactByExternalId(contact.external_id))
      throw new IntercomError(409, "conflict", `This workspace was already seeded with seed ${seed}`);
    contact.id = objectId(contact.created_at_ms);
    ws.putContact(contact);
    (role === "user" ? users : leads).push(contact.id);
    if (companies.length > 0 && (role === "user" || draw.chance(0.5))) {
      for (const company of draw.some(companies, wideLinkCount(draw))) ws.attach(contact.id, company.id);
    }
    const applied = new Map<string, number>();
    for (const tagId of draw.some(tagIds, draw.chance(0.03) ? 12 : draw.int(0, 4)))
      applied.set(tagId, Math.floor(contact.updated_at_ms / 1000));
    if (applied.size > 0) ws.taggings.set(contact.id, applied);
  }

  return {
    app_id: appId,
    users,
    leads,
    companies: companies.map((c) => c.id),
    company_ids: companies.map((c) => c.company_id),
    tags: tagIds,
    attributes,
  };
}
