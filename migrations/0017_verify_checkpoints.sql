CREATE TABLE `verify_checkpoints` (
	`stream_id` text PRIMARY KEY NOT NULL,
	`length` integer NOT NULL,
	`head_hash` text NOT NULL,
	`machine_id` text NOT NULL,
	`machine_version` integer NOT NULL,
	`snapshot` text NOT NULL,
	`verified_at` text NOT NULL
);
