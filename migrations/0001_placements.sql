CREATE TABLE `placements` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`database` text NOT NULL,
	`created_at` integer NOT NULL
);
