/** The configuration of a running instance, read once from the environment. */
export function databasePath(): string {
  return process.env.DATABASE_PATH ?? 'data/isu-ib.sqlite';
}

export function port(): number {
  const value = Number(process.env.PORT ?? 3000);
  return Number.isInteger(value) && value > 0 && value < 65536 ? value : 3000;
}
