/** Which Intercom topics the source handles, with what, and under which source setting (README, Connection settings). */
import type { SourceSettings } from "../db/schema";

export type TopicKind =
  | "contact"
  | "company"
  | "relationship"
  | "chat"
  | "user_event"
  | "contact_tags"
  | "contact_merged"
  | "contact_deleted"
  | "company_deleted";

export type SourceSetting = Exclude<keyof SourceSettings, "enabled">;

export interface TopicRoute {
  kind: TopicKind;
  /** The setting that must be on; null when the topic only maintains the identity map (its handler decides). */
  setting: SourceSetting | null;
}

const ROUTES: Readonly<Record<string, TopicRoute>> = {
  "contact.user.created": { kind: "contact", setting: "create_users_from_contacts" },
  "contact.user.updated": { kind: "contact", setting: "create_users_from_contacts" },
  "contact.lead.created": { kind: "contact", setting: "create_users_from_contacts" },
  "contact.lead.updated": { kind: "contact", setting: "create_users_from_contacts" },
  "contact.lead.signed_up": { kind: "contact", setting: "create_users_from_contacts" },
  "contact.lead.added_email": { kind: "contact", setting: "create_users_from_contacts" },
  "contact.email.updated": { kind: "contact", setting: "create_users_from_contacts" },
  "company.created": { kind: "company", setting: "create_accounts_from_companies" },
  "company.updated": { kind: "company", setting: "create_accounts_from_companies" },
  "company.contact.attached": { kind: "relationship", setting: "capture_relationships" },
  "company.contact.detached": { kind: "relationship", setting: "capture_relationships" },
  "conversation.user.created": { kind: "chat", setting: "capture_chat_events" },
  "event.created": { kind: "user_event", setting: "capture_user_events" },
  // Not an Intercom topic: the tag names an import with include_tags reads (source/import/tag-capture.ts).
  "import.contact.tags": { kind: "contact_tags", setting: "create_users_from_contacts" },
  "contact.merged": { kind: "contact_merged", setting: null },
  "contact.deleted": { kind: "contact_deleted", setting: null },
  "company.deleted": { kind: "company_deleted", setting: null },
};

/** The topics to subscribe to in the Intercom Developer Hub (README, "Source"). */
export const HANDLED_TOPICS: readonly string[] = Object.keys(ROUTES).filter((topic) => !topic.startsWith("import."));

/** How a topic is handled; null for topics the source ignores (logged as `ignored`). */
export function routeTopic(topic: string): TopicRoute | null {
  return ROUTES[topic] ?? null;
}
