-- The identity map and the memberships keyed by their primary key itself (WITHOUT ROWID): a new row writes the
-- table and its one secondary index, 2 rows in D1's rows_written instead of 3 (table, primary-key index, secondary
-- index). Same columns, keys and index names; the rows are copied over. drizzle's schema cannot say WITHOUT ROWID,
-- so this migration is hand-written (drizzle-kit generate --custom) and the snapshot is unchanged.
CREATE TABLE `intercom_links_clustered` (
	`connection_id` text NOT NULL,
	`object_type` text NOT NULL,
	`local_pk` integer NOT NULL,
	`intercom_id` text NOT NULL,
	`remote_updated_at` integer,
	`remote_state` text DEFAULT '{}' NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`connection_id`, `object_type`, `local_pk`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `intercom_links_clustered` SELECT `connection_id`, `object_type`, `local_pk`, `intercom_id`, `remote_updated_at`, `remote_state`, `updated_at` FROM `intercom_links`;
--> statement-breakpoint
DROP TABLE `intercom_links`;
--> statement-breakpoint
ALTER TABLE `intercom_links_clustered` RENAME TO `intercom_links`;
--> statement-breakpoint
CREATE UNIQUE INDEX `intercom_links_intercom_id` ON `intercom_links` (`connection_id`,`object_type`,`intercom_id`);
--> statement-breakpoint
CREATE TABLE `memberships_clustered` (
	`user_pk` integer NOT NULL,
	`account_pk` integer NOT NULL,
	`workspace_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_pk`, `account_pk`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `memberships_clustered` SELECT `user_pk`, `account_pk`, `workspace_id`, `created_at` FROM `memberships`;
--> statement-breakpoint
DROP TABLE `memberships`;
--> statement-breakpoint
ALTER TABLE `memberships_clustered` RENAME TO `memberships`;
--> statement-breakpoint
CREATE INDEX `memberships_account` ON `memberships` (`account_pk`);
