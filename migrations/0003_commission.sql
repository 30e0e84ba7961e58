CREATE TABLE `application_scoring` (
	`application_id` integer PRIMARY KEY NOT NULL,
	`population` integer DEFAULT 0 NOT NULL,
	`beneficiaries` integer DEFAULT 0 NOT NULL,
	`meeting_attendance` integer DEFAULT 0 NOT NULL,
	`subsidy_kopecks` integer DEFAULT 0 NOT NULL,
	`local_budget_kopecks` integer DEFAULT 0 NOT NULL,
	`residents_kopecks` integer DEFAULT 0 NOT NULL,
	`business_kopecks` integer DEFAULT 0 NOT NULL,
	`non_monetary_kopecks` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `commission_decisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`programme_id` integer NOT NULL,
	`decided_at` text NOT NULL,
	`decided_by` text NOT NULL,
	`members_present` text NOT NULL,
	`record` text NOT NULL,
	`record_hash` text NOT NULL,
	`ledger_head` text NOT NULL,
	`ledger_events` integer NOT NULL,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `commission_decisions_programme_id_unique` ON `commission_decisions` (`programme_id`);--> statement-breakpoint
CREATE TABLE `commission_settings` (
	`programme_id` integer PRIMARY KEY NOT NULL,
	`criteria` text NOT NULL,
	`quorum` integer NOT NULL,
	`partial_award` integer DEFAULT false NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `scores` (
	`application_id` integer NOT NULL,
	`member_id` integer NOT NULL,
	`significance_centi` integer NOT NULL,
	`comment` text,
	`at` text NOT NULL,
	PRIMARY KEY(`application_id`, `member_id`),
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`member_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `scores_member` ON `scores` (`member_id`);