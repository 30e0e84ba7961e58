CREATE TABLE `commission_meetings` (
	`decision_id` integer PRIMARY KEY NOT NULL,
	`held_on` text,
	`place` text,
	`chair_name` text,
	`secretary_name` text,
	`membership` text NOT NULL,
	FOREIGN KEY (`decision_id`) REFERENCES `commission_decisions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `review_queue` (
	`application_id` integer PRIMARY KEY NOT NULL,
	`programme_id` integer NOT NULL,
	`lane` text,
	`state` text NOT NULL,
	`version` integer NOT NULL,
	`state_rank` integer NOT NULL,
	`title` text NOT NULL,
	`title_key` text NOT NULL,
	`municipality_id` integer NOT NULL,
	`municipality_name` text NOT NULL,
	`municipality_key` text NOT NULL,
	`assignee_id` integer,
	`assignee_name` text DEFAULT '' NOT NULL,
	`assignee_key` text DEFAULT '' NOT NULL,
	`first_submitted_at` text NOT NULL,
	`waiting_since` text NOT NULL,
	`deadline_at` text,
	`deadline_key` text GENERATED ALWAYS AS (coalesce(deadline_at, '~')) VIRTUAL,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`municipality_id`) REFERENCES `municipalities`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`assignee_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `review_queue_all_id` ON `review_queue` (`programme_id`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_id` ON `review_queue` (`programme_id`,`lane`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_title` ON `review_queue` (`programme_id`,`title_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_title` ON `review_queue` (`programme_id`,`lane`,`title_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_municipality` ON `review_queue` (`programme_id`,`municipality_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_municipality` ON `review_queue` (`programme_id`,`lane`,`municipality_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_submitted` ON `review_queue` (`programme_id`,`first_submitted_at`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_submitted` ON `review_queue` (`programme_id`,`lane`,`first_submitted_at`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_waiting` ON `review_queue` (`programme_id`,`waiting_since`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_waiting` ON `review_queue` (`programme_id`,`lane`,`waiting_since`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_deadline` ON `review_queue` (`programme_id`,`deadline_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_deadline` ON `review_queue` (`programme_id`,`lane`,`deadline_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_assignee` ON `review_queue` (`programme_id`,`assignee_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_assignee` ON `review_queue` (`programme_id`,`lane`,`assignee_key`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_all_state` ON `review_queue` (`programme_id`,`state_rank`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE INDEX `review_queue_lane_state` ON `review_queue` (`programme_id`,`lane`,`state_rank`,`application_id`) WHERE lane IS NOT NULL;--> statement-breakpoint
CREATE TABLE `review_queue_counts` (
	`programme_id` integer NOT NULL,
	`lane` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`programme_id`, `lane`)
);
--> statement-breakpoint
CREATE TABLE `reviewer_conflicts` (
	`reviewer_id` integer NOT NULL,
	`municipality_id` integer NOT NULL,
	`reason` text NOT NULL,
	`declared_at` text NOT NULL,
	PRIMARY KEY(`reviewer_id`, `municipality_id`),
	FOREIGN KEY (`reviewer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`municipality_id`) REFERENCES `municipalities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `reviewer_conflicts_municipality` ON `reviewer_conflicts` (`municipality_id`);