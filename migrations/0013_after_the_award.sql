ALTER TABLE `applications` ADD `agreed_kopecks` integer;--> statement-breakpoint
ALTER TABLE `applications` ADD `received_kopecks` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `applications` ADD `spent_kopecks` integer;--> statement-breakpoint
ALTER TABLE `applications` ADD `progress_percent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `programmes` ADD `savings_rule` text DEFAULT 'keep' NOT NULL;--> statement-breakpoint
UPDATE `applications` SET `progress_percent` = COALESCE((SELECT json_extract(s.`snapshot`, '$.context.progressPercent') FROM `streams` s WHERE s.`id` = `applications`.`stream_id`), 0);
