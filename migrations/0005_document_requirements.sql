CREATE TABLE `document_requirements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`programme_id` integer NOT NULL,
	`project_type` text NOT NULL,
	`kind` text NOT NULL,
	`required` integer NOT NULL,
	`file_types` text NOT NULL,
	`max_bytes` integer NOT NULL,
	`updated_at` text NOT NULL,
	`updated_by` text,
	FOREIGN KEY (`programme_id`) REFERENCES `programmes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `document_requirements_programme_type_kind` ON `document_requirements` (`programme_id`,`project_type`,`kind`);