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
CREATE INDEX `applications_programme_municipality_state` ON `applications` (`programme_id`,`municipality_id`,`state`,`subsidy_kopecks`,`awarded_kopecks`);