import type { events, streams } from '../db/schema.ts';

/** A stream as stored: its current snapshot and the head of its hash chain. */
export type StreamRow = typeof streams.$inferSelect;
/** One stored event of the append-only log. */
export type EventRow = typeof events.$inferSelect;
