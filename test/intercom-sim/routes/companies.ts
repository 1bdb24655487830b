/** Companies (create-or-update by company_id, read, update) and their attachment to contacts. */
import { Hono } from "hono";
import { checkCustomAttributes, mergeCustomAttributes } from "../attributes";
import type { SimCore } from "../core";
import { companyNotFound, IntercomError, invalid } from "../errors";
import { bodyObject, optionalBoolean, optionalInteger, optionalString, rejectUnknownKeys, type SimEnv } from "../http";
import { numericId, objectId } from "../ids";
import { liveContact } from "../lookup";
import { attachmentCompanyJson } from "../payloads";
import { blankCompany } from "../records";
import type { CompanyRecord, ContactRecord, CustomValue } from "../types";
import type { Workspace } from "../workspace";

const UPDATE_KEYS = [
  "name",
  "plan",
  "size",
  "website",
  "industry",
  "monthly_spend",
  "remote_created_at",
  "custom_attributes",
  "update_last_request_at",
];
const CREATE_KEYS = new Set(["company_id", ...UPDATE_KEYS]);
/** `company_id` cannot change once set, so `PUT /companies/{id}` rejects it like any unknown key. */
const PUT_KEYS = new Set(UPDATE_KEYS);
/** Intercom stores monthly_spend as a 32-bit integer. */
const MAX_MONTHLY_SPEND = 2_147_483_647;
/** Intercom's cap on companies per contact. */
const MAX_COMPANIES_PER_CONTACT = 1000;

interface CompanyPatch {
  name?: string | null;
  plan?: string | null;
  size?: number | null;
  website?: string | null;
  industry?: string | null;
  monthly_spend?: number;
  remote_created_at?: number | null;
  last_request_at?: number;
  custom_attributes?: Record<string, CustomValue | null>;
}

function readCompanyPatch(body: Record<string, unknown>, ws: Workspace, nowSeconds: number): CompanyPatch {
  const patch: CompanyPatch = {
    name: optionalString(body, "name"),
    plan: optionalString(body, "plan"),
    size: optionalInteger(body, "size"),
    website: optionalString(body, "website"),
    industry: optionalString(body, "industry"),
    remote_created_at: optionalInteger(body, "remote_created_at"),
  };
  const spend = body.monthly_spend;
  if (spend !== undefined) {
    if (spend !== null && (typeof spend !== "number" || !Number.isFinite(spend)))
      throw invalid("monthly_spend must be a number");
    // Intercom truncates floats to integers.
    const truncated = spend === null ? 0 : Math.trunc(spend);
    if (Math.abs(truncated) > MAX_MONTHLY_SPEND) throw invalid(`monthly_spend must be at most ${MAX_MONTHLY_SPEND}`);
    patch.monthly_spend = truncated;
  }
  if (optionalBoolean(body, "update_last_request_at")) patch.last_request_at = nowSeconds;
  if (body.custom_attributes !== undefined)
    patch.custom_attributes = checkCustomAttributes(body.custom_attributes, ws.customAttributes.company);
  return patch;
}

const SCALAR_FIELDS = [
  "name",
  "plan",
  "size",
  "website",
  "industry",
  "monthly_spend",
  "remote_created_at",
  "last_request_at",
] as const;

function applyPatch(company: CompanyRecord, patch: CompanyPatch): { next: CompanyRecord; changed: boolean } {
  const next: CompanyRecord = { ...company };
  let changed = false;
  for (const field of SCALAR_FIELDS) {
    const value = patch[field];
    if (value !== undefined && value !== company[field]) {
      (next as unknown as Record<string, unknown>)[field] = value;
      changed = true;
    }
  }
  if (patch.custom_attributes) {
    const merged = mergeCustomAttributes(company.custom_attributes, patch.custom_attributes);
    next.custom_attributes = merged.values;
    changed ||= merged.changed;
  }
  return { next, changed };
}

/** Stores a changed company (plans get a stable id per name) and notifies `company.created|updated`. */
function saveCompany(core: SimCore, ws: Workspace, company: CompanyRecord, change: "created" | "updated"): void {
  if (company.plan !== null && !ws.planIds.has(company.plan)) ws.planIds.set(company.plan, numericId());
  ws.putCompany(company);
  core.notify(ws.appId, `company.${change}`, core.webhookCompanyJson(ws, company));
}

/** Applies a patch to an existing company; updated_at moves and a webhook goes out only when something changed. */
function updateCompany(core: SimCore, ws: Workspace, company: CompanyRecord, patch: CompanyPatch): CompanyRecord {
  const { next, changed } = applyPatch(company, patch);
  if (!changed) return company;
  next.updated_at_ms = core.now();
  saveCompany(core, ws, next, "updated");
  return next;
}

function companyById(ws: Workspace, id: string): CompanyRecord {
  const company = ws.companies.get(id);
  if (!company) throw companyNotFound();
  return company;
}

/** Companies in Intercom's list wrapper, on one page (the simulator does not paginate company lists). */
function companyList(core: SimCore, ws: Workspace, companies: CompanyRecord[], perPage: number) {
  return {
    type: "list",
    data: companies.map((company) => core.companyJson(ws, company)),
    pages: { type: "pages", next: null, page: 1, per_page: perPage, total_pages: 1 },
    total_count: companies.length,
  };
}

/** Companies per scroll page. */
export const SCROLL_PAGE_SIZE = 50;
/** A scroll not used for this long expires, as in Intercom. */
const SCROLL_TTL_MS = 60_000;

/**
 * `GET /companies/scroll`: without `scroll_param` a new scroll starts, with it the next page follows; the end is an
 * empty page, after which the parameter is gone. Intercom allows one open scroll per app: starting another while one
 * is open (not finished, used within the last minute) is a 400 with the recorded message "scroll already exists for
 * this app" (its code was never recorded: `bad_request` is the simulator's). An unknown or expired parameter is a 404
 * **(sim)**: Intercom documents only that such calls fail.
 */
function scrollCompanies(core: SimCore, ws: Workspace, param: string | undefined) {
  const now = core.now();
  let scroll = ws.companyScroll;
  const open = scroll !== null && now - scroll.usedAtMs <= SCROLL_TTL_MS;
  if (param === undefined) {
    if (open) throw new IntercomError(400, "bad_request", "scroll already exists for this app");
    scroll = { param: crypto.randomUUID(), ids: [...ws.companies.keys()], offset: 0, usedAtMs: now };
    ws.companyScroll = scroll;
  } else if (!scroll || !open || scroll.param !== param) {
    throw new IntercomError(404, "not_found", "scroll parameter not found or expired");
  }
  const page: CompanyRecord[] = [];
  while (scroll.offset < scroll.ids.length && page.length < SCROLL_PAGE_SIZE) {
    const company = ws.companies.get(scroll.ids[scroll.offset++]!);
    if (company) page.push(company);
  }
  scroll.usedAtMs = now;
  if (page.length === 0) ws.companyScroll = null;
  return {
    type: "list",
    data: page.map((company) => core.companyJson(ws, company)),
    pages: null,
    total_count: ws.companies.size,
    scroll_param: scroll.param,
  };
}

/** `/companies` and `/contacts/{id}/companies`. */
export function companyRoutes(core: SimCore) {
  return new Hono<SimEnv>()
    .post("/companies", (c) => {
      const ws = c.get("ws");
      const body = bodyObject(c);
      rejectUnknownKeys(body, CREATE_KEYS);
      const companyId = optionalString(body, "company_id");
      if (!companyId) throw invalid("company_id is required");
      const patch = readCompanyPatch(body, ws, core.nowSeconds());
      const existing = ws.companyByCompanyId(companyId);
      if (existing) return c.json(core.companyJson(ws, updateCompany(core, ws, existing, patch)));
      const blank = blankCompany({ id: objectId(core.now()), company_id: companyId, nowMs: core.now() });
      const company = applyPatch(blank, patch).next;
      saveCompany(core, ws, company, "created");
      return c.json(core.companyJson(ws, company));
    })
    .get("/companies", (c) => {
      const ws = c.get("ws");
      const { company_id: companyId, name } = c.req.query();
      if (companyId === undefined && name === undefined)
        return c.json(companyList(core, ws, [...ws.companies.values()], 15));
      const company =
        companyId !== undefined
          ? ws.companyByCompanyId(companyId)
          : [...ws.companies.values()].find((candidate) => candidate.name === name);
      if (!company) throw companyNotFound();
      return c.json(companyList(core, ws, [company], 15));
    })
    .get("/companies/scroll", (c) => c.json(scrollCompanies(core, c.get("ws"), c.req.query("scroll_param"))))
    .get("/companies/:id", (c) => {
      const ws = c.get("ws");
      return c.json(core.companyJson(ws, companyById(ws, c.req.param("id"))));
    })
    .put("/companies/:id", (c) => {
      const ws = c.get("ws");
      const company = companyById(ws, c.req.param("id"));
      const body = bodyObject(c);
      rejectUnknownKeys(body, PUT_KEYS);
      return c.json(
        core.companyJson(ws, updateCompany(core, ws, company, readCompanyPatch(body, ws, core.nowSeconds()))),
      );
    })
    .post("/contacts/:id/companies", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      const companyId = bodyObject(c).id;
      if (typeof companyId !== "string" || companyId === "")
        throw new IntercomError(400, "parameter_not_found", "company not specified");
      const company = companyById(ws, companyId);
      if (
        !ws.companiesOfContact.get(contact.id)?.has(company.id) &&
        ws.companyIdsOf(contact.id).length >= MAX_COMPANIES_PER_CONTACT
      ) {
        throw new IntercomError(
          400,
          "contact_company_limit_exceeded",
          "Contact has reached the maximum of 1000 company associations",
        );
      }
      if (ws.attach(contact.id, company.id)) notifyAttachment(core, ws, "attached", contact, company);
      return c.json(core.companyJson(ws, company));
    })
    .delete("/contacts/:id/companies/:company_id", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      const company = companyById(ws, c.req.param("company_id"));
      // Detaching a company the contact is not attached to: the simulator answers 404 company_not_found.
      if (!ws.detach(contact.id, company.id)) throw companyNotFound();
      notifyAttachment(core, ws, "detached", contact, company);
      return c.json(core.companyJson(ws, company));
    })
    .get("/contacts/:id/companies", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      return c.json(
        companyList(
          core,
          ws,
          ws.companyIdsOf(contact.id).map((id) => companyById(ws, id)),
          50,
        ),
      );
    });
}

/** `company.contact.attached|detached`: the item has no `type`, only `company` and `contact` (as recorded). */
function notifyAttachment(
  core: SimCore,
  ws: Workspace,
  change: "attached" | "detached",
  contact: ContactRecord,
  company: CompanyRecord,
): void {
  core.notify(ws.appId, `company.contact.${change}`, {
    company: attachmentCompanyJson(company, core.companyLinks(ws, company)),
    contact: core.webhookContactJson(ws, contact),
  });
}
