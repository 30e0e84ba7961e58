-- A recorded decision of the commission is final: the database itself refuses to change or remove it.
CREATE TRIGGER `commission_decisions_no_update` BEFORE UPDATE ON `commission_decisions`
BEGIN
  SELECT RAISE(ABORT, 'commission decisions are final');
END;
--> statement-breakpoint
CREATE TRIGGER `commission_decisions_no_delete` BEFORE DELETE ON `commission_decisions`
BEGIN
  SELECT RAISE(ABORT, 'commission decisions are final');
END;
