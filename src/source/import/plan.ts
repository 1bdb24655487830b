/**
 * Import planning, pure: the phases an import runs, what one page changes in a job's progress, its ETA and its API
 * shape. The I/O (Intercom pages, INBOUND, D1) is in run.ts.
 */
import type { ImportJobState, ImportObject, ImportOptions, ImportPhase } from "../../db/schema";

/** Companies first: memberships read from contacts then find their accounts already captured. */
export const IMPORT_ORDER: readonly ImportObject[] = ["companies", "contacts"];

/** The phases of an import of `objects`, in the order they run, nothing counted yet. */
export function plannedPhases(objects: readonly ImportObject[]): ImportPhase[] {
  return IMPORT_ORDER.filter((object) => objects.includes(object)).map((object) => ({
    object,
    total: null,
    done: 0,
    skipped: 0,
    failed: 0,
    calls: 0,
  }));
}

/** The options an import runs with: every object when none are named, in the import order. */
export function importOptions(input: { objects?: readonly ImportObject[] | undefined; since?: number | null }) {
  const objects = input.objects?.length ? IMPORT_ORDER.filter((o) => input.objects!.includes(o)) : [...IMPORT_ORDER];
  return { objects, since: input.since ?? null } satisfies ImportOptions;
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
  phase: ImportObject | null;
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
  const following = phases[index + 1];
  return { phase: following?.object ?? null, cursor: null, phases };
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
    phase: ImportObject | null;
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
