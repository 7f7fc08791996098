/**
 * The settings a person changes in the app (config/settings.ts): the few configuration keys that
 * matter to them, validated by the configuration's own schema and saved where the engine reads
 * them (`<data folder>/settings.yaml`).
 */
import { z } from 'zod';
import { emptyRequestSchema } from './common.js';
import { method } from './method.js';

export const uiLanguages = ['system', 'en', 'pt-BR'] as const;
export type UiLanguage = (typeof uiLanguages)[number];
export const uiThemes = ['system', 'light', 'dark'] as const;
export type UiTheme = (typeof uiThemes)[number];

/** What the settings screen edits; every key optional in an update. */
export const settingsValuesSchema = z.strictObject({
  model: z.strictObject({
    name: z.string().min(1).max(64).describe('A catalogue id (models/list).'),
    threads: z.number().int().min(1).max(256).nullable().describe('null: all cores but one.'),
    contextSize: z.number().int().min(256).max(131072),
    maxTokens: z.number().int().min(1).max(8192),
  }),
  database: z.strictObject({ url: z.string().min(1).max(2048).nullable().describe('postgres://… with pgvector; null: the embedded database.') }),
  ui: z.strictObject({
    language: z.enum(uiLanguages),
    theme: z.enum(uiThemes),
    shortcut: z.string().min(1).max(64).describe('Global shortcut of the desktop quick question (Electron accelerator).'),
  }),
});
export type SettingsValues = z.infer<typeof settingsValuesSchema>;

export const settingsSchema = z.object({
  values: settingsValuesSchema.describe('What the engine runs with now (its configuration, after every layer).'),
  saved: z.record(z.string(), z.unknown()).describe('What settings.yaml holds.'),
  file: z.string().describe('Where they are saved.'),
  overridden: z
    .array(z.object({ key: z.string(), by: z.string() }))
    .describe('Keys a config file, an environment variable or a flag sets above settings.yaml, so a change there has no effect.'),
  restartPending: z.boolean().describe('Saved changes the running engine does not use yet: system/reload applies them.'),
});
export type Settings = z.infer<typeof settingsSchema>;

export const updateSettingsRequestSchema = z.strictObject({
  model: settingsValuesSchema.shape.model.partial().optional(),
  database: settingsValuesSchema.shape.database.partial().optional(),
  ui: settingsValuesSchema.shape.ui.partial().optional(),
});
export type SettingsUpdate = z.infer<typeof updateSettingsRequestSchema>;

export const databaseCheckSchema = z.object({
  kind: z.enum(['pglite', 'postgres']),
  location: z.string().describe('The URL without its password.'),
  serverVersion: z.string().nullable(),
  pgvector: z.boolean().describe('The server offers the vector extension npllm needs.'),
});
export type DatabaseCheck = z.infer<typeof databaseCheckSchema>;

export const settingsMethods = {
  'settings/get': method({
    summary: 'The settings the app edits: values in force, what is saved, what else overrides them.',
    request: emptyRequestSchema,
    response: settingsSchema,
  }),
  'settings/update': method({
    summary: 'Validate and save settings (a database URL is tried first); engine settings apply after system/reload.',
    request: updateSettingsRequestSchema,
    response: settingsSchema,
  }),
  'settings/test-database': method({
    summary: 'Try a PostgreSQL URL (reachable, pgvector available) without saving it.',
    request: z.strictObject({ url: z.string().min(1).max(2048).nullable() }),
    response: databaseCheckSchema,
  }),
};
