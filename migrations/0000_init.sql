CREATE TABLE `applications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`stream_id` text NOT NULL,
	`programme_id` integer NOT NULL,
	`municipality_id` integer NOT NULL,
	`title` text NOT NULL,
	`project_type` text,
	`settlement` text,
	`search` text DEFAULT '' NOT NULL,
	`state` text NOT NULL,
	`version` integer NOT NULL,
	`subsidy_kopecks` integer DEFAULT 0 NOT NULL,
	`total_kopecks` integer DEFAULT 0 NOT NULL,
	`awarded_kopecks` integer,
	`first_submitted_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`stream_id`) REFERENCES `streams`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`municipality_id`) REFERENCES `municipalities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `applications_stream_id_unique` ON `applications` (`stream_id`);--> statement-breakpoint
CREATE INDEX `applications_programme_state` ON `applications` (`programme_id`,`state`);--> statement-breakpoint
CREATE INDEX `applications_municipality` ON `applications` (`municipality_id`,`state`);--> statement-breakpoint
CREATE INDEX `applications_title` ON `applications` (`title`);--> statement-breakpoint
CREATE INDEX `applications_type` ON `applications` (`project_type`);--> statement-breakpoint
CREATE TABLE `events` (
	`position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`stream_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`facts` text NOT NULL,
	`actor` text NOT NULL,
	`at` text NOT NULL,
	`from_state` text,
	`to_state` text NOT NULL,
	`machine_id` text NOT NULL,
	`machine_version` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	FOREIGN KEY (`stream_id`) REFERENCES `streams`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_stream_seq` ON `events` (`stream_id`,`seq`);--> statement-breakpoint
CREATE TABLE `municipalities` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`population` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `municipalities_name_unique` ON `municipalities` (`name`);--> statement-breakpoint
CREATE TABLE `programmes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`title` text NOT NULL,
	`year` integer NOT NULL,
	`region` text NOT NULL,
	`time_zone` text NOT NULL,
	`fund_kopecks` integer NOT NULL,
	`cap_kopecks` integer NOT NULL,
	`min_local_share_bp` integer NOT NULL,
	`min_residents_share_bp` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`kind` text NOT NULL,
	`csrf_secret` text,
	`created_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `streams` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`machine_id` text NOT NULL,
	`machine_version` integer NOT NULL,
	`state` text NOT NULL,
	`snapshot` text NOT NULL,
	`version` integer NOT NULL,
	`head_hash` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`login` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`municipality_id` integer,
	`password_hash` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`municipality_id`) REFERENCES `municipalities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_login_unique` ON `users` (`login`);