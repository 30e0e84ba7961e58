CREATE TABLE `security_log` (
	`position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`subject` text NOT NULL,
	`details` text NOT NULL,
	`ledger_position` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings_log` (
	`position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`subject` text NOT NULL,
	`details` text NOT NULL,
	`ledger_position` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
-- The security log and the settings log are append-only, like the events: the database itself refuses to change or remove an entry.
CREATE TRIGGER `security_log_no_update` BEFORE UPDATE ON `security_log`
BEGIN
  SELECT RAISE(ABORT, 'the security log is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `security_log_no_delete` BEFORE DELETE ON `security_log`
BEGIN
  SELECT RAISE(ABORT, 'the security log is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `settings_log_no_update` BEFORE UPDATE ON `settings_log`
BEGIN
  SELECT RAISE(ABORT, 'the settings log is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER `settings_log_no_delete` BEFORE DELETE ON `settings_log`
BEGIN
  SELECT RAISE(ABORT, 'the settings log is append-only');
END;
