-- Memberships keyed by their primary key itself (WITHOUT ROWID): a new membership writes the table and its one
-- secondary index, 2 rows in D1's rows_written instead of 3 (table, primary-key index, secondary index), and its
-- small rows take less space (46 bytes instead of 61). Same columns, key and index name; the rows are copied over.
-- drizzle's schema cannot say WITHOUT ROWID, so this migration is hand-written (drizzle-kit generate --custom) and
-- the snapshot is unchanged. intercom_links stays a rowid table: its rows are several KB (the remote state), and
-- clustered on its key it grew 9-58 % per row (test/bench/capacity.bench.ts), more than one row written saves.
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
