CREATE TABLE `accounts` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`account_id` text NOT NULL,
	`name` text,
	`properties` text DEFAULT '{}' NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_workspace_account_id` ON `accounts` (`workspace_id`,`account_id`);--> statement-breakpoint
CREATE TABLE `actions` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`user_pk` integer NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`idempotency_key` text,
	`status` text NOT NULL,
	`detail` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`accepted_at` integer NOT NULL,
	`echo_key` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `actions_idempotency` ON `actions` (`workspace_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `actions_queue` ON `actions` (`connection_id`,`user_pk`,`status`,`accepted_at`);--> statement-breakpoint
CREATE INDEX `actions_echo` ON `actions` (`echo_key`) WHERE echo_key IS NOT NULL;--> statement-breakpoint
CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`status_detail` text,
	`app_id` text,
	`app_name` text,
	`region` text DEFAULT 'US' NOT NULL,
	`token_jwe` text,
	`source` text NOT NULL,
	`destination` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`swept_until` integer,
	`companies_swept_until` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `connections_workspace` ON `connections` (`workspace_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `connections_app` ON `connections` (`app_id`);--> statement-breakpoint
CREATE INDEX `connections_status` ON `connections` (`status`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`queue` text NOT NULL,
	`connection_id` text,
	`body` text NOT NULL,
	`message_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`replayed_at` integer
);
--> statement-breakpoint
CREATE INDEX `dead_letters_connection` ON `dead_letters` (`connection_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_message` ON `dead_letters` (`message_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`user_pk` integer NOT NULL,
	`connection_id` text,
	`name` text NOT NULL,
	`properties` text DEFAULT '{}' NOT NULL,
	`occurred_at` integer NOT NULL,
	`source` text NOT NULL,
	`dedupe_key` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_user_time` ON `events` (`user_pk`,`occurred_at`,`pk`);--> statement-breakpoint
CREATE UNIQUE INDEX `events_dedupe` ON `events` (`dedupe_key`);--> statement-breakpoint
CREATE TABLE `intercom_links` (
	`connection_id` text NOT NULL,
	`object_type` text NOT NULL,
	`local_pk` integer NOT NULL,
	`intercom_id` text NOT NULL,
	`remote_updated_at` integer,
	`remote_state` text DEFAULT '{}' NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`connection_id`, `object_type`, `local_pk`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `intercom_links_intercom_id` ON `intercom_links` (`connection_id`,`object_type`,`intercom_id`);--> statement-breakpoint
CREATE TABLE `memberships` (
	`user_pk` integer NOT NULL,
	`account_pk` integer NOT NULL,
	`workspace_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_pk`, `account_pk`)
);
--> statement-breakpoint
CREATE INDEX `memberships_account` ON `memberships` (`account_pk`);--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`nonce` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE TABLE `parked_syncs` (
	`connection_id` text NOT NULL,
	`kind` text NOT NULL,
	`local_pk` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`connection_id`, `kind`, `local_pk`)
);
--> statement-breakpoint
CREATE TABLE `pending_links` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`connection_id` text NOT NULL,
	`intercom_contact_id` text NOT NULL,
	`intercom_company_id` text NOT NULL,
	`company_id` text,
	`op` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pending_links_pair` ON `pending_links` (`connection_id`,`intercom_contact_id`,`intercom_company_id`);--> statement-breakpoint
CREATE INDEX `pending_links_company` ON `pending_links` (`connection_id`,`intercom_company_id`);--> statement-breakpoint
CREATE INDEX `pending_links_time` ON `pending_links` (`created_at`);--> statement-breakpoint
CREATE TABLE `processed_notifications` (
	`key` text PRIMARY KEY NOT NULL,
	`processed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `processed_notifications_time` ON `processed_notifications` (`processed_at`);--> statement-breakpoint
CREATE TABLE `sync_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`connection_id` text,
	`workspace_id` text,
	`direction` text NOT NULL,
	`outcome` text NOT NULL,
	`object_type` text NOT NULL,
	`object_id` text,
	`intercom_id` text,
	`email` text,
	`action` text,
	`detail` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sync_logs_connection` ON `sync_logs` (`connection_id`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_direction` ON `sync_logs` (`connection_id`,`direction`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_outcome` ON `sync_logs` (`connection_id`,`outcome`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_object_type` ON `sync_logs` (`connection_id`,`object_type`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_object_id` ON `sync_logs` (`connection_id`,`object_id`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_intercom_id` ON `sync_logs` (`connection_id`,`intercom_id`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_email` ON `sync_logs` (`connection_id`,`email`,`id`);--> statement-breakpoint
CREATE INDEX `sync_logs_time` ON `sync_logs` (`created_at`);--> statement-breakpoint
CREATE TABLE `tag_cache` (
	`connection_id` text NOT NULL,
	`name` text NOT NULL,
	`tag_id` text NOT NULL,
	PRIMARY KEY(`connection_id`, `name`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`user_id` text,
	`email` text,
	`properties` text DEFAULT '{}' NOT NULL,
	`segments` text DEFAULT '[]' NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_workspace_user_id` ON `users` (`workspace_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `users_workspace_email` ON `users` (`workspace_id`,`email`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_workspace_email_only` ON `users` (`workspace_id`,`email`) WHERE user_id IS NULL;--> statement-breakpoint
CREATE INDEX `users_workspace_pk` ON `users` (`workspace_id`,`pk`);