CREATE TABLE `resync_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`connection_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`state` text NOT NULL,
	`total` integer NOT NULL,
	`queued` integer DEFAULT 0 NOT NULL,
	`synced` integer DEFAULT 0 NOT NULL,
	`noop` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`after_pk` integer DEFAULT 0 NOT NULL,
	`paged_all` integer DEFAULT false NOT NULL,
	`detail` text,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resync_jobs_one_running` ON `resync_jobs` (`connection_id`) WHERE state = 'running';--> statement-breakpoint
CREATE INDEX `resync_jobs_running_updated` ON `resync_jobs` (`updated_at`) WHERE state = 'running';--> statement-breakpoint
CREATE INDEX `resync_jobs_connection` ON `resync_jobs` (`connection_id`,`started_at`);