/**
 * `<home>/settings.yaml`: what the app's settings screen saved. It is a layer of the configuration
 * (config.ts: above the config file, below environment variables and flags), holds only the keys
 * the screen edits, and is validated by the configuration's own schemas.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { updateSettingsRequestSchema, uiLanguages, uiThemes, type SettingsUpdate } from '../../../shared/contract.js';
import { ConfigError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../base/files.js';

export const uiConfigSchema = z.strictObject({
  /** `system`: the language the operating system or the browser reports. */
  language: z.enum(uiLanguages),
  theme: z.enum(uiThemes),
  /** Electron accelerator of the desktop quick question. */
  shortcut: z.string().min(1).max(64),
});
export type UiConfig = z.infer<typeof uiConfigSchema>;

export function uiDefaults(): UiConfig {
  return { language: 'system', theme: 'system', shortcut: 'CommandOrControl+Shift+Space' };
}

export function settingsFilePath(home: string): string {
  return join(home, 'settings.yaml');
}

/** What the file holds, checked; null when there is none. */
export function readSettingsFile(home: string): { file: string; values: SettingsUpdate } | null {
  const file = settingsFilePath(home);
  if (!existsSync(file)) return null;
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (cause) {
    throw new ConfigError('CONFIG_INVALID', `The settings file ${file} is not valid YAML.`, {
      cause,
      fix: 'Fix it by hand or delete it: the app writes it again when settings are saved.',
    });
  }
  const parsed = updateSettingsRequestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError('CONFIG_INVALID', `The settings file ${file} is invalid at "${issue.path.join('.')}": ${issue.message}.`, {
      fix: 'Correct that key or delete the file: the app writes it again when settings are saved.',
    });
  }
  return { file, values: parsed.data };
}

/** Merges `change` into the saved settings and writes them atomically; returns what is saved now. */
export async function saveSettingsFile(home: string, change: SettingsUpdate): Promise<SettingsUpdate> {
  const current = readSettingsFile(home)?.values ?? {};
  const next: SettingsUpdate = {
    ...current,
    ...(change.model ? { model: { ...current.model, ...change.model } } : {}),
    ...(change.database ? { database: { ...current.database, ...change.database } } : {}),
    ...(change.ui ? { ui: { ...current.ui, ...change.ui } } : {}),
  };
  const text = `# Saved by npllm's settings screen; environment variables and flags override these keys.\n${stringifyYaml(next)}`;
  await writeFileAtomic(settingsFilePath(home), [new TextEncoder().encode(text)]);
  return next;
}
