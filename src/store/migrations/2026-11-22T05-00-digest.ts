import type { Kysely } from 'kysely';

// Frozen in time: never imports application code.

export async function up(_db: Kysely<any>): Promise<void> {}

export async function down(_db: Kysely<any>): Promise<void> {}
