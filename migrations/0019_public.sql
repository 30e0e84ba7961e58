CREATE TABLE `programme_public_settings` (
	`programme_id` integer PRIMARY KEY NOT NULL,
	`document_kinds` text NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
