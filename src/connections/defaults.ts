/** The settings a new connection starts with (README, API): source on, destination off until an admin turns it on. */
import type { DestinationSettings, SourceSettings } from "../db/schema";

export const DEFAULT_SOURCE_SETTINGS: SourceSettings = {
  enabled: true,
  capture_chat_events: true,
  capture_user_events: true,
  create_users_from_contacts: true,
  create_accounts_from_companies: true,
  capture_relationships: true,
  on_contact_deleted: "unlink",
  import_on_enable: true,
};

export const DEFAULT_DESTINATION_SETTINGS: DestinationSettings = {
  enabled: false,
  segments: [],
  allow_create: false,
  mappings: { contact: [], company: [] },
  on_erase: "none",
  clear_removed: false,
};
