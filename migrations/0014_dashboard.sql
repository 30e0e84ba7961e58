CREATE TABLE `application_counts` (
	`programme_id` integer NOT NULL,
	`municipality_id` integer NOT NULL,
	`state` text NOT NULL,
	`count` integer NOT NULL,
	`subsidy_kopecks` integer NOT NULL,
	`awarded_kopecks` integer NOT NULL,
	`awarded_count` integer NOT NULL,
	PRIMARY KEY(`programme_id`, `municipality_id`, `state`)
);
--> statement-breakpoint
CREATE TABLE `application_state_spells` (
	`application_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`programme_id` integer NOT NULL,
	`state` text NOT NULL,
	`entered_at` text NOT NULL,
	`left_at` text,
	`duration_ms` integer,
	PRIMARY KEY(`application_id`, `seq`),
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `application_state_spells_closed` ON `application_state_spells` (`programme_id`,`state`,`duration_ms`) WHERE left_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `application_state_spells_open` ON `application_state_spells` (`programme_id`,`state`,`entered_at`) WHERE left_at IS NULL;--> statement-breakpoint
CREATE TABLE `state_spell_counts` (
	`programme_id` integer NOT NULL,
	`state` text NOT NULL,
	`finished` integer NOT NULL,
	`running` integer NOT NULL,
	PRIMARY KEY(`programme_id`, `state`)
);
--> statement-breakpoint
CREATE TABLE `state_spell_hours` (
	`programme_id` integer NOT NULL,
	`state` text NOT NULL,
	`hour` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`programme_id`, `state`, `hour`)
);
