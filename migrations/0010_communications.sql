CREATE TABLE `application_clocks` (
	`application_id` integer PRIMARY KEY NOT NULL,
	`programme_id` integer NOT NULL,
	`kind` text NOT NULL,
	`started_at` text NOT NULL,
	`reminded_at` text,
	`overdue_at` text,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `application_clocks_programme` ON `application_clocks` (`programme_id`,`kind`);--> statement-breakpoint
CREATE TABLE `informing_rounds` (
	`programme_id` integer PRIMARY KEY NOT NULL,
	`sent_at` text NOT NULL,
	`sent_by` text NOT NULL,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `notification_preferences` (
	`user_id` integer NOT NULL,
	`kind` text NOT NULL,
	`email` integer NOT NULL,
	PRIMARY KEY(`user_id`, `kind`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`kind` text NOT NULL,
	`event_position` integer,
	`dedupe_key` text NOT NULL,
	`programme_id` integer,
	`application_id` integer,
	`params` text NOT NULL,
	`link` text NOT NULL,
	`created_at` text NOT NULL,
	`read_at` text,
	`mail_state` text DEFAULT 'none' NOT NULL,
	`mail_to` text,
	`message_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`claimed_at` text,
	`last_error` text,
	`sent_at` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notifications_user_key` ON `notifications` (`user_id`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `notifications_inbox` ON `notifications` (`user_id`,`read_at`,`id`);--> statement-breakpoint
CREATE INDEX `notifications_outbox` ON `notifications` (`mail_state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `notifications_programme_kind` ON `notifications` (`programme_id`,`kind`);--> statement-breakpoint
CREATE TABLE `programme_deadlines` (
	`programme_id` integer PRIMARY KEY NOT NULL,
	`review_days` integer NOT NULL,
	`answer_days` integer NOT NULL,
	`remind_days` integer NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `users` ADD `email` text;--> statement-breakpoint
ALTER TABLE `users` ADD `lang` text DEFAULT 'ru' NOT NULL;