CREATE TABLE `import_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`connection_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`state` text NOT NULL,
	`options` text NOT NULL,
	`phase` text,
	`cursor` text,
	`page` integer DEFAULT 0 NOT NULL,
	`phases` text NOT NULL,
	`detail` text,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `import_jobs_one_active` ON `import_jobs` (`connection_id`) WHERE state IN ('queued', 'running');--> statement-breakpoint
CREATE INDEX `import_jobs_active_updated` ON `import_jobs` (`updated_at`) WHERE state IN ('queued', 'running');--> statement-breakpoint
CREATE INDEX `import_jobs_connection` ON `import_jobs` (`connection_id`,`started_at`);