CREATE TABLE `sync_log_counts` (
	`connection_id` text NOT NULL,
	`period` integer NOT NULL,
	`direction` text NOT NULL,
	`outcome` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`connection_id`, `period`, `direction`, `outcome`)
);
--> statement-breakpoint
CREATE INDEX `sync_log_counts_time` ON `sync_log_counts` (`period`);--> statement-breakpoint
DROP INDEX `sync_logs_object_id`;--> statement-breakpoint
DROP INDEX `sync_logs_intercom_id`;--> statement-breakpoint
DROP INDEX `sync_logs_email`;--> statement-breakpoint
CREATE INDEX `sync_logs_object_id` ON `sync_logs` (`connection_id`,`object_id`,`id`) WHERE object_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `sync_logs_intercom_id` ON `sync_logs` (`connection_id`,`intercom_id`,`id`) WHERE intercom_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `sync_logs_email` ON `sync_logs` (`connection_id`,`email`,`id`) WHERE email IS NOT NULL;