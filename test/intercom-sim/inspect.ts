/** What tests read back (`sim.state`, `GET /_sim/state`): a workspace's whole content in REST shapes. */
import { customAttributeJson } from "./attributes";
import type { SimCore } from "./core";
import { tagJson } from "./payloads";

/** Everything one workspace holds, archived contacts included. */
export function workspaceState(core: SimCore, appId: string) {
  const ws = core.workspace(appId);
  return {
    workspace: {
      app_id: ws.appId,
      name: ws.name,
      region: ws.region,
      created_at: ws.createdAt,
      rate_limit: core.rateLimitOf(ws),
    },
    contacts: [...ws.contacts.values()].map((contact) => ({
      ...core.contactJson(ws, contact),
      archived: contact.archived,
    })),
    merged: [...ws.mergedInto].map(([from, into]) => ({ from, into })),
    companies: [...ws.companies.values()].map((company) => core.companyJson(ws, company)),
    attachments: [...ws.companiesOfContact].flatMap(([contactId, companyIds]) =>
      [...companyIds].map((companyId) => ({ contact_id: contactId, company_id: companyId })),
    ),
    tags: [...ws.tags.values()].map((tag) => tagJson(tag)),
    taggings: [...ws.taggings].flatMap(([contactId, applied]) =>
      [...applied].map(([tagId, appliedAt]) => ({ contact_id: contactId, tag_id: tagId, applied_at: appliedAt })),
    ),
    events: [...ws.events],
    conversations: [...ws.conversations.values()],
    data_attributes: [...ws.customAttributes.contact.values(), ...ws.customAttributes.company.values()].map(
      customAttributeJson,
    ),
  };
}

/** The workspaces, without their content. */
export function workspaceList(core: SimCore) {
  return [...core.workspaces.values()].map((ws) => ({
    app_id: ws.appId,
    name: ws.name,
    region: ws.region,
    rate_limit: core.rateLimitOf(ws),
  }));
}
