/** One Durable Object per Intercom workspace: the rate budget shared by every sync of that workspace. */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class RateBudget extends DurableObject<Env> {}
