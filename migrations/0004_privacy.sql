CREATE TABLE `erased_contacts` (
	`key` text PRIMARY KEY NOT NULL,
	`person_digest` text NOT NULL,
	`erasure_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `erased_contacts_time` ON `erased_contacts` (`created_at`);--> statement-breakpoint
CREATE TABLE `erasures` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`digest` text NOT NULL,
	`email_digest` text,
	`origin` text NOT NULL,
	`requested_by` text,
	`state` text NOT NULL,
	`steps` text NOT NULL,
	`subjects` text,
	`seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `erasures_workspace_digest` ON `erasures` (`workspace_id`,`digest`);--> statement-breakpoint
CREATE INDEX `erasures_workspace_email_digest` ON `erasures` (`workspace_id`,`email_digest`);--> statement-breakpoint
CREATE INDEX `erasures_running` ON `erasures` (`state`,`updated_at`);--> statement-breakpoint
CREATE INDEX `events_time` ON `events` (`occurred_at`);