/** One Durable Object per connection + CDP user (or account): the serialized mailbox of its Intercom syncs. */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class ContactSync extends DurableObject<Env> {}
