import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { lockForTransaction } from '../db/sql.js';
import { projectProfiles } from '../db/schema.js';

export type ProfileRow = typeof projectProfiles.$inferSelect;

export async function latestProfile(db: Db, root: string): Promise<ProfileRow | null> {
  const rows = await db.select().from(projectProfiles).where(eq(projectProfiles.root, root)).orderBy(desc(projectProfiles.version)).limit(1);
  return rows[0] ?? null;
}

/** Adds the next version of a project's profile; the version is taken inside the insert, so two confirmations never share one. */
export async function insertProfile(db: Db, profile: Omit<typeof projectProfiles.$inferInsert, 'version' | 'confirmedAt'>): Promise<ProfileRow> {
  return db.transaction(async (tx) => {
    // Serialises confirmations of the same folder; the primary key would reject the loser otherwise.
    await lockForTransaction(tx, `npllm-profile:${profile.root}`);
    const [row] = await tx
      .insert(projectProfiles)
      .values({
        ...profile,
        version: sql`(select coalesce(max(${projectProfiles.version}), 0) + 1 from ${projectProfiles} where ${projectProfiles.root} = ${profile.root})`,
      })
      .returning();
    return row!;
  });
}
