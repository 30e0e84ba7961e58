CREATE TABLE `stages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`stream_id` text NOT NULL,
	`programme_id` integer NOT NULL,
	`no` integer NOT NULL,
	`key` text NOT NULL,
	`state` text NOT NULL,
	`version` integer NOT NULL,
	`planned_start` text,
	`planned_end` text,
	`started_at` text,
	`completed_at` text,
	`tasks_done` integer DEFAULT 0 NOT NULL,
	`tasks_total` integer DEFAULT 0 NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`stream_id`) REFERENCES `streams`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `stages_stream_id_unique` ON `stages` (`stream_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `stages_programme_no` ON `stages` (`programme_id`,`no`);--> statement-breakpoint
CREATE INDEX `stages_programme_state` ON `stages` (`programme_id`,`state`);