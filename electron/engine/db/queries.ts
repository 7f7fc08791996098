import { sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { selectRows } from './sql.js';

export interface SchemaReport {
  extensions: string[];
  tables: string[];
  appliedMigrations: number;
}

/** What start-up migrations left behind: used by diagnostics and the database tests. */
export async function schemaReport(db: Db): Promise<SchemaReport> {
  const [extensions, tables, migrations] = await Promise.all([
    selectRows<{ extname: string }>(db, sql`select extname from pg_extension order by extname`),
    selectRows<{ tablename: string }>(db, sql`select tablename from pg_tables where schemaname = 'public' order by tablename`),
    selectRows<{ count: string | number }>(db, sql`select count(*) as count from drizzle.__drizzle_migrations`),
  ]);
  return { extensions: extensions.map((row) => row.extname), tables: tables.map((row) => row.tablename), appliedMigrations: Number(migrations[0]?.count ?? 0) };
}
