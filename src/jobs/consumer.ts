/**
 * The JOBS consumer: each message is one page of a job; pages of different connections run side by side, and one
 * page's failure (retried by the queue, then recorded as a dead letter) never touches another's. The `resync_users`
 * messages of a batch are handed over together (one job-state read and one batch search per connection); when that
 * fails they are all retried (a user handed over twice counts once).
 */
import { controlDb } from "../db/placement";
import { handOverResyncUsers, runResyncPage } from "../destination/resync";
import type { ResyncUsersMessage } from "../destination/resync-messages";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { QUEUE_NAMES } from "../lib/queue-names";
import { recordDeadLetter } from "../ops/dead-letters";
import { runErasurePage } from "../privacy/erase";
import { runImportPage } from "../source/import/run";
import { runSweepPage } from "../source/sweep/run";
import { JobMessage } from "./messages";

/** Seconds before a failed page is tried again. */
const RETRY_DELAY_SECONDS = 30;

/** Consumes a batch of JOBS messages. */
export async function consumeJobs(batch: MessageBatch, env: Env): Promise<void> {
  const handOvers: Array<{ message: Message; body: ResyncUsersMessage }> = [];
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = JobMessage.safeParse(message.body);
      if (!parsed.success) {
        // Kept for inspection in the dead-letter record: it cannot be processed, but it is not lost.
        await recordDeadLetter(controlDb(env), {
          queue: QUEUE_NAMES.jobs,
          connectionId: null,
          workspaceId: null,
          body: message.body,
          detail: `malformed job message: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`,
        });
        message.ack();
        return;
      }
      if (parsed.data.kind === "resync_users") {
        handOvers.push({ message, body: parsed.data });
        return;
      }
      try {
        if (parsed.data.kind === "sweep") await runSweepPage(env, parsed.data);
        else if (parsed.data.kind === "erase") await runErasurePage(env, parsed.data);
        else if (parsed.data.kind === "import_page") await runImportPage(env, parsed.data);
        else await runResyncPage(env, parsed.data);
        message.ack();
      } catch (error) {
        log({
          level: "warn",
          msg: "job page failed; retrying",
          outcome: "retrying",
          ...(parsed.data.kind === "erase"
            ? { erasure_id: parsed.data.erasure_id }
            : { connection_id: parsed.data.connection_id }),
          kind: parsed.data.kind,
          error: describeError(error),
        });
        message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
      }
    }),
  );
  if (handOvers.length === 0) return;
  try {
    await handOverResyncUsers(
      env,
      handOvers.map((item) => item.body),
    );
    for (const item of handOvers) item.message.ack();
  } catch (error) {
    log({
      level: "warn",
      msg: "resync users not handed over; retrying",
      outcome: "retrying",
      messages: handOvers.length,
      error: describeError(error),
    });
    for (const item of handOvers) item.message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
  }
}
