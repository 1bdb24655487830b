/**
 * Import planning, pure: the phases an import runs, what one page changes in a job's progress, its ETA and its API
 * shape, which items of a page can be read, and a contact's memberships as INBOUND messages. The I/O (Intercom
 * pages, INBOUND, D1) is in run.ts.
 */
import type {
  ImportJobState,
  ImportObject,
  ImportOptions,
  ImportPhase,
  ImportPhaseName,
  SourceSettings,
} from "../../db/schema";
import { type InboundMessage, projectItem, readItemMessage } from "../inbound-message";

/** Companies first: memberships read from contacts then find their accounts already captured. */
export const IMPORT_ORDER: readonly ImportObject[] = ["companies", "contacts"];

/** The optional phases run after the objects: chats and events then find the users the contacts phase captured. */
const OPTIONAL_ORDER = ["conversations", "events"] as const;

/** The phases of an import, in the order they run, nothing counted yet. */
export function plannedPhases(
  objects: readonly ImportObject[],
  optional: { conversations?: boolean; events?: boolean } = {},
): ImportPhase[] {
  const names: ImportPhaseName[] = [
    ...IMPORT_ORDER.filter((object) => objects.includes(object)),
    ...OPTIONAL_ORDER.filter((name) => optional[name]),
  ];
  return names.map((object) => ({ object, total: null, done: 0, skipped: 0, failed: 0, calls: 0 }));
}

/** The phases of `options` (pure), those that a source setting turns off marked with the reason, none run yet. */
export function phasesOf(options: ImportOptions, source: SourceSettings): ImportPhase[] {
  return plannedPhases(options.objects, {
    conversations: options.conversationsSince != null,
    events: options.events === true,
  }).map((phase) => {
    const reason = phaseOffReason(source, phase.object);
    return reason === null ? phase : { ...phase, total: 0, skipped_reason: reason };
  });
}

/** Why a source setting keeps an optional phase from running (pure); null when it may run. */
export function phaseOffReason(source: SourceSettings, phase: ImportPhaseName): string | null {
  if (phase === "conversations" && !source.capture_chat_events) return "source.capture_chat_events is off";
  if (phase === "events" && !source.capture_user_events) return "source.capture_user_events is off";
  return null;
}

/** The first phase that runs, from `index` on; null when none is left. */
export function runnablePhase(phases: readonly ImportPhase[], index = 0): ImportPhaseName | null {
  return phases.slice(index).find((phase) => phase.skipped_reason === undefined)?.object ?? null;
}

/** The options an import runs with: every object when none are named, in the import order, no optional part. */
export function importOptions(input: {
  objects?: readonly ImportObject[] | undefined;
  since?: number | null;
  tags?: boolean;
  conversationsSince?: number | null;
  events?: boolean;
}) {
  const objects = input.objects?.length ? IMPORT_ORDER.filter((o) => input.objects!.includes(o)) : [...IMPORT_ORDER];
  return {
    objects,
    since: input.since ?? null,
    ...(input.tags ? { tags: true } : {}),
    ...(input.conversationsSince != null ? { conversationsSince: input.conversationsSince } : {}),
    ...(input.events ? { events: true } : {}),
  } satisfies ImportOptions;
}

/** What one page read: items read, those already captured in that state, those that could not be read, calls. */
export interface PageFigures {
  read: number;
  skipped: number;
  failed: number;
  calls: number;
  /** Intercom's `total_count` when the answer had one. */
  total: number | null;
  /** Where the phase continues; null when this page was its last. */
  next: string | null;
}

export interface Progress {
  phase: ImportPhaseName | null;
  cursor: string | null;
  phases: ImportPhase[];
}

/** The progress after one page of the current phase (pure); `phase: null` once every phase is read. */
export function afterPage(progress: Progress, figures: PageFigures): Progress {
  const phases = progress.phases.map((phase) => {
    if (phase.object !== progress.phase) return phase;
    const done = phase.done + figures.read;
    const total = figures.next === null ? done : (figures.total ?? phase.total);
    return {
      ...phase,
      total,
      done,
      skipped: phase.skipped + figures.skipped,
      failed: phase.failed + figures.failed,
      calls: phase.calls + figures.calls,
    };
  });
  if (figures.next !== null) return { phase: progress.phase, cursor: figures.next, phases };
  const index = phases.findIndex((phase) => phase.object === progress.phase);
  return { phase: runnablePhase(phases, index + 1), cursor: null, phases };
}

/** The progress once the current phase is skipped for `reason` (a setting turned off since the start), pure. */
export function skipPhase(progress: Progress, reason: string): Progress {
  const phases = progress.phases.map((phase) =>
    phase.object === progress.phase ? { ...phase, total: phase.done, skipped_reason: reason } : phase,
  );
  const index = phases.findIndex((phase) => phase.object === progress.phase);
  return { phase: runnablePhase(phases, index + 1), cursor: null, phases };
}

/** The progress after a scroll that expired: the phase starts over (its counts too; its calls stay spent). */
export function restartPhase(progress: Progress, extraCalls: number): Progress {
  return {
    phase: progress.phase,
    cursor: null,
    phases: progress.phases.map((phase) =>
      phase.object === progress.phase
        ? { ...phase, done: 0, skipped: 0, failed: 0, calls: phase.calls + extraCalls }
        : phase,
    ),
  };
}

/** Items read so far and the items known to be left (pure). */
function readAndLeft(phases: readonly ImportPhase[]): { read: number; left: number } {
  let read = 0;
  let left = 0;
  for (const phase of phases) {
    read += phase.done;
    if (phase.total !== null) left += Math.max(0, phase.total - phase.done);
  }
  return { read, left };
}

/** Seconds left at the rate so far; null when not running or nothing is read yet. */
export function importEtaSeconds(
  job: { state: ImportJobState; startedAt: number; phases: readonly ImportPhase[] },
  now: number,
): number | null {
  if (job.state !== "running") return null;
  const { read, left } = readAndLeft(job.phases);
  const elapsed = (now - job.startedAt) / 1000;
  if (read === 0 || elapsed <= 0) return null;
  return Math.ceil(left / (read / elapsed));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An import job as the API shows it. */
export function importJobJson(
  job: {
    id: string;
    connectionId: string;
    state: ImportJobState;
    options: ImportOptions;
    phase: ImportPhaseName | null;
    phases: ImportPhase[];
    detail: string | null;
    startedAt: number;
    finishedAt: number | null;
    updatedAt: number;
  },
  now = Date.now(),
) {
  return {
    id: job.id,
    connection_id: job.connectionId,
    state: job.state,
    objects: job.options.objects,
    since: job.options.since === null ? null : new Date(job.options.since * 1000).toISOString(),
    include_tags: job.options.tags === true,
    include_conversations: job.options.conversationsSince != null,
    conversations_since: job.options.conversationsSince == null ? null : iso(job.options.conversationsSince * 1000),
    include_events: job.options.events === true,
    phase: job.phase,
    phases: job.phases.map((phase) => ({ ...phase })),
    detail: job.detail,
    started_at: new Date(job.startedAt).toISOString(),
    finished_at: iso(job.finishedAt),
    updated_at: new Date(job.updatedAt).toISOString(),
    eta_seconds: importEtaSeconds(job, now),
  };
}
export type ImportJobJson = ReturnType<typeof importJobJson>;

/** Items whose `updated_at` and `id` can be read, and the ids of the others (pure). */
export function readableItems(items: ReadonlyArray<Record<string, unknown>>): {
  readable: Array<Record<string, unknown>>;
  failedIds: string[];
} {
  const readable: Array<Record<string, unknown>> = [];
  const failedIds: string[] = [];
  for (const item of items) {
    if (typeof item.id === "string" && Number.isFinite(Number(item.updated_at)) && item.updated_at !== null) {
      readable.push(item);
    } else failedIds.push(String(item.id ?? "(no id)"));
  }
  return { readable, failedIds };
}

/** The company ids of a REST contact's embedded `companies` list, and whether Intercom left some out (pure). */
export function embeddedCompanyIds(contact: Record<string, unknown>): { ids: string[]; hasMore: boolean } {
  const list = contact.companies;
  if (typeof list !== "object" || list === null) return { ids: [], hasMore: false };
  const { data, has_more: hasMore } = list as { data?: unknown; has_more?: unknown };
  const ids = Array.isArray(data)
    ? data
        .map((entry) => (typeof entry === "object" && entry !== null ? (entry as { id?: unknown }).id : null))
        .filter((id): id is string => typeof id === "string")
    : [];
  return { ids, hasMore: hasMore === true };
}

/**
 * A membership read from a contact as a `company.contact.attached` INBOUND message (pure): the relationship handler
 * then links the pair, or waits in `pending_links` for the side not captured yet. Its id names the contact's state,
 * so an unchanged contact imported again is a duplicate.
 */
export function membershipNotification(
  appId: string,
  contact: Record<string, unknown>,
  companyId: string,
  now: number,
): InboundMessage {
  const updatedAt = Number(contact.updated_at);
  return readItemMessage(appId, "import", now, {
    id: `import:attach:${String(contact.id)}:${companyId}:${updatedAt}`,
    topic: "company.contact.attached",
    created_at: updatedAt,
    item: { contact: projectItem(contact), company: { type: "company", id: companyId } },
  });
}
