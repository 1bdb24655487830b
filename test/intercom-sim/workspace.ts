/** One Intercom workspace's data, with the indexes that keep lookups by id, external_id and email O(1). */
import type { WindowCounter } from "./rate-limit";
import type {
  AttributeModel,
  CompanyRecord,
  ContactRecord,
  ConversationRecord,
  CustomAttributeRecord,
  EventRecord,
  RateLimitConfig,
  Region,
  SegmentRecord,
  TagRecord,
} from "./types";

/** The key Intercom de-duplicates events on: (contact, event_name, created_at). */
export const eventKey = (contactId: string, eventName: string, createdAt: number) =>
  `${contactId}\u0000${eventName}\u0000${createdAt}`;

export interface Admin {
  id: string;
  name: string;
  email: string;
}

/** State of one workspace; records are replaced, never mutated in place, so index updates see the old values. */
export class Workspace {
  /** Per-workspace override of the global rate limit. */
  rateLimit: RateLimitConfig | null = null;
  readonly window: WindowCounter = { start: 0, count: 0 };

  readonly contacts = new Map<string, ContactRecord>();
  /** Ids of contacts merged away → the contact they were merged into. */
  readonly mergedInto = new Map<string, string>();
  private readonly contactIdByExternalId = new Map<string, string>();
  private readonly contactIdsByEmail = new Map<string, Set<string>>();

  readonly companies = new Map<string, CompanyRecord>();
  private readonly companyIdByCompanyId = new Map<string, string>();
  /** contact id → attached company ids, in attach order. */
  readonly companiesOfContact = new Map<string, Set<string>>();
  /** company id → attached contact ids. */
  readonly contactsOfCompany = new Map<string, Set<string>>();
  /** plan name → plan id: a plan keeps its id across companies. */
  readonly planIds = new Map<string, string>();
  /** The one open company scroll (Intercom allows one per app): the ids it walks and where it is. */
  companyScroll: { param: string; ids: string[]; offset: number; usedAtMs: number } | null = null;

  /** Segments (made in Intercom's UI; the simulator only shows them on companies). */
  readonly segments = new Map<string, SegmentRecord>();

  readonly tags = new Map<string, TagRecord>();
  private readonly tagIdByName = new Map<string, string>();
  /** contact id → (tag id → applied_at), in tagging order. */
  readonly taggings = new Map<string, Map<string, number>>();

  readonly events: EventRecord[] = [];
  /** Contact-initiated conversations, by id (what `POST /conversations/search` finds). */
  readonly conversations = new Map<string, ConversationRecord>();
  /** Intercom de-duplicates events on (contact, event_name, created_at). */
  readonly eventKeys = new Set<string>();

  readonly customAttributes: Record<AttributeModel, Map<string, CustomAttributeRecord>> = {
    contact: new Map(),
    company: new Map(),
  };

  constructor(
    readonly appId: string,
    readonly name: string,
    readonly region: Region,
    readonly createdAt: number,
    readonly admin: Admin,
  ) {}

  /** Stores a new or changed contact; `previous` is its state before the change, so stale index keys go. */
  putContact(contact: ContactRecord, previous?: ContactRecord): void {
    if (previous) this.unindexContact(previous);
    this.contacts.set(contact.id, contact);
    if (contact.external_id !== null) this.contactIdByExternalId.set(contact.external_id, contact.id);
    if (contact.email !== null) {
      const key = contact.email.toLowerCase();
      let ids = this.contactIdsByEmail.get(key);
      if (!ids) this.contactIdsByEmail.set(key, (ids = new Set()));
      ids.add(contact.id);
    }
  }

  /** Forgets a contact and everything attached to it (companies, tags). Events stay, as in Intercom's history. */
  removeContact(contact: ContactRecord): void {
    this.unindexContact(contact);
    this.contacts.delete(contact.id);
    for (const companyId of this.companiesOfContact.get(contact.id) ?? [])
      this.contactsOfCompany.get(companyId)?.delete(contact.id);
    this.companiesOfContact.delete(contact.id);
    this.taggings.delete(contact.id);
  }

  private unindexContact(contact: ContactRecord): void {
    if (contact.external_id !== null && this.contactIdByExternalId.get(contact.external_id) === contact.id) {
      this.contactIdByExternalId.delete(contact.external_id);
    }
    if (contact.email !== null) {
      const key = contact.email.toLowerCase();
      const ids = this.contactIdsByEmail.get(key);
      ids?.delete(contact.id);
      if (ids?.size === 0) this.contactIdsByEmail.delete(key);
    }
  }

  /** Any contact (archived too, lead or user) holding this external_id. */
  contactByExternalId(externalId: string): ContactRecord | undefined {
    const id = this.contactIdByExternalId.get(externalId);
    return id === undefined ? undefined : this.contacts.get(id);
  }

  /** Contacts whose email equals `email`, ignoring case. */
  contactsByEmail(email: string): ContactRecord[] {
    const ids = this.contactIdsByEmail.get(email.toLowerCase());
    if (!ids) return [];
    return [...ids].map((id) => this.contacts.get(id)).filter((c): c is ContactRecord => c !== undefined);
  }

  /** Stores a new or changed company (company_id never changes, so the index entry stays valid). */
  putCompany(company: CompanyRecord): void {
    this.companies.set(company.id, company);
    this.companyIdByCompanyId.set(company.company_id, company.id);
  }

  /** Forgets a company and its attachments. */
  removeCompany(company: CompanyRecord): void {
    this.companies.delete(company.id);
    this.companyIdByCompanyId.delete(company.company_id);
    for (const contactId of this.contactsOfCompany.get(company.id) ?? [])
      this.companiesOfContact.get(contactId)?.delete(company.id);
    this.contactsOfCompany.delete(company.id);
  }

  /** The company with this client-side company_id. */
  companyByCompanyId(companyId: string): CompanyRecord | undefined {
    const id = this.companyIdByCompanyId.get(companyId);
    return id === undefined ? undefined : this.companies.get(id);
  }

  /** Links a contact and a company; false when they already were. */
  attach(contactId: string, companyId: string): boolean {
    const companies = this.companiesOfContact.get(contactId) ?? new Set<string>();
    if (companies.has(companyId)) return false;
    companies.add(companyId);
    this.companiesOfContact.set(contactId, companies);
    const contacts = this.contactsOfCompany.get(companyId) ?? new Set<string>();
    contacts.add(contactId);
    this.contactsOfCompany.set(companyId, contacts);
    return true;
  }

  /** Unlinks a contact and a company; false when they were not linked. */
  detach(contactId: string, companyId: string): boolean {
    const removed = this.companiesOfContact.get(contactId)?.delete(companyId) ?? false;
    this.contactsOfCompany.get(companyId)?.delete(contactId);
    return removed;
  }

  /** Contacts attached to a company: its `user_count`. */
  userCount(companyId: string): number {
    return this.contactsOfCompany.get(companyId)?.size ?? 0;
  }

  /** Stores a new or renamed tag; `previousName` is the old name of a renamed one. */
  putTag(tag: TagRecord, previousName?: string): void {
    if (previousName !== undefined) this.tagIdByName.delete(previousName.toLowerCase());
    this.tags.set(tag.id, tag);
    this.tagIdByName.set(tag.name.toLowerCase(), tag.id);
  }

  /** Tag names are case-insensitive in Intercom. */
  tagByName(name: string): TagRecord | undefined {
    const id = this.tagIdByName.get(name.toLowerCase());
    return id === undefined ? undefined : this.tags.get(id);
  }

  /** Tags applied to a contact, in tagging order. */
  tagIdsOf(contactId: string): string[] {
    return [...(this.taggings.get(contactId)?.keys() ?? [])];
  }

  /** Companies attached to a contact, in attach order. */
  companyIdsOf(contactId: string): string[] {
    return [...(this.companiesOfContact.get(contactId) ?? [])];
  }
}
