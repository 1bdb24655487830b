/** Contact and company topics: capture, then settle the relationships that waited for this object. */

import { CompanyItem, ContactItem } from "../intercom/webhook-items";
import { captureCompany } from "./capture/company";
import { captureContact } from "./capture/contact";
import { applyPendingOfCompany, applyPendingOfContact } from "./pending";
import { combine, type HandlerContext, type Work } from "./work";

/** `contact.*` created/updated/signed-up/email topics (the caller checked `create_users_from_contacts`). */
export async function handleContact(ctx: HandlerContext): Promise<Work> {
  const contact = ContactItem.parse(ctx.notification.item);
  const capture = await captureContact(ctx, contact);
  if (capture.localPk === null) return capture;
  const linkedUsers = capture.linkedNow ? [capture.localPk] : [];
  return combine({ ...capture, linkedUsers }, await applyPendingOfContact(ctx, contact.id, capture.localPk));
}

/** `company.created|updated` (the caller checked `create_accounts_from_companies`). */
export async function handleCompany(ctx: HandlerContext): Promise<Work> {
  const company = CompanyItem.parse(ctx.notification.item);
  const capture = await captureCompany(ctx, company);
  if (capture.localPk === null) return capture;
  return combine(capture, await applyPendingOfCompany(ctx, company.id, capture.localPk));
}
