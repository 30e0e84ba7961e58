CREATE TABLE `journal_entries` (
	`id` integer PRIMARY KEY NOT NULL,
	`stream_id` text NOT NULL,
	`programme_id` integer NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`version` integer NOT NULL,
	`municipality_id` integer,
	`application_id` integer,
	`held_on` text NOT NULL,
	`participants` integer DEFAULT 0 NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`documents` integer DEFAULT 0 NOT NULL,
	`supersedes` integer,
	`superseded_by` integer,
	`recorded_at` text NOT NULL,
	`recorded_by` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`stream_id`) REFERENCES `streams`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`municipality_id`) REFERENCES `municipalities`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `journal_entries_stream_id_unique` ON `journal_entries` (`stream_id`);--> statement-breakpoint
CREATE INDEX `journal_entries_programme_kind` ON `journal_entries` (`programme_id`,`kind`,`held_on`);--> statement-breakpoint
CREATE INDEX `journal_entries_programme_municipality` ON `journal_entries` (`programme_id`,`municipality_id`);--> statement-breakpoint
CREATE INDEX `journal_entries_application` ON `journal_entries` (`application_id`);--> statement-breakpoint
CREATE TABLE `journal_entry_municipalities` (
	`entry_id` integer NOT NULL,
	`municipality_id` integer NOT NULL,
	PRIMARY KEY(`entry_id`, `municipality_id`),
	FOREIGN KEY (`entry_id`) REFERENCES `journal_entries`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`municipality_id`) REFERENCES `municipalities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `journal_entry_municipalities_municipality` ON `journal_entry_municipalities` (`municipality_id`);