/**
 * Settings: the model (the catalogue, with downloads), threads, context size, answer length, the
 * database (embedded or a tested DATABASE_URL), the API key of a remote server, language and
 * theme. The engine validates and saves them (`settings/update`, settings.yaml) and reopens
 * itself to apply engine settings (`system/reload`); nothing typed is lost on a failure.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CatalogueModel, Progress, Settings, SettingsUpdate, UiLanguage, UiTheme } from '../../shared/contract.js';
import { uiLanguages, uiThemes } from '../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../shared/errors.js';
import { ErrorBox } from './ErrorBox.js';
import { formatNumber } from './locale-format.js';
import type { ApiKeyStore, Transport } from './transport.js';

export interface SettingsViewProps {
  transport: Transport;
  apiKeys?: ApiKeyStore | undefined;
  /** Applies a language or theme at once (before it is saved). */
  onUiChange: (ui: { language?: UiLanguage; theme?: UiTheme }) => void;
  /** Called once a reload was asked for: the status strip follows the engine coming back. */
  onReloading: () => void;
}

interface Draft {
  model: string;
  threads: string;
  contextSize: string;
  maxTokens: string;
  databaseKind: 'embedded' | 'postgres';
  databaseUrl: string;
  language: UiLanguage;
  theme: UiTheme;
  shortcut: string;
}

function draftOf(settings: Settings): Draft {
  const { values } = settings;
  return {
    model: values.model.name,
    threads: values.model.threads === null ? '' : String(values.model.threads),
    contextSize: String(values.model.contextSize),
    maxTokens: String(values.model.maxTokens),
    databaseKind: values.database.url ? 'postgres' : 'embedded',
    databaseUrl: values.database.url ?? '',
    language: values.ui.language,
    theme: values.ui.theme,
    shortcut: values.ui.shortcut,
  };
}

/** The change to send: only what differs from what is in force, as numbers where numbers go. */
export function settingsChange(draft: Draft, settings: Settings): SettingsUpdate {
  const { values } = settings;
  const model: NonNullable<SettingsUpdate['model']> = {};
  if (draft.model !== values.model.name) model.name = draft.model;
  const threads = draft.threads.trim() === '' ? null : Number(draft.threads);
  if (threads !== values.model.threads) model.threads = threads;
  if (Number(draft.contextSize) !== values.model.contextSize) model.contextSize = Number(draft.contextSize);
  if (Number(draft.maxTokens) !== values.model.maxTokens) model.maxTokens = Number(draft.maxTokens);
  const url = draft.databaseKind === 'embedded' ? null : draft.databaseUrl.trim() || null;
  const ui: NonNullable<SettingsUpdate['ui']> = {};
  if (draft.language !== values.ui.language) ui.language = draft.language;
  if (draft.theme !== values.ui.theme) ui.theme = draft.theme;
  if (draft.shortcut !== values.ui.shortcut) ui.shortcut = draft.shortcut;
  return {
    ...(Object.keys(model).length ? { model } : {}),
    ...(url !== values.database.url ? { database: { url } } : {}),
    ...(Object.keys(ui).length ? { ui } : {}),
  };
}

export function SettingsView({ transport, apiKeys, onUiChange, onReloading }: SettingsViewProps) {
  const { t, i18n } = useTranslation();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [models, setModels] = useState<CatalogueModel[]>([]);
  const [error, setError] = useState<SerializedError | null>(null);
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved' | 'reloading' | 'testing' | 'tested'>('idle');
  const [pull, setPull] = useState<{ id: string; progress: Progress | null; error: SerializedError | null } | null>(null);
  const [apiKey, setApiKey] = useState(apiKeys?.current() ?? '');

  const load = async () => {
    try {
      const [loaded, catalogue] = await Promise.all([transport.invoke('settings/get', {}), transport.invoke('models/list', {})]);
      setSettings(loaded);
      setDraft((current) => current ?? draftOf(loaded));
      setModels(catalogue.items);
      setError(null);
    } catch (failure) {
      setError(toNpllmError(failure).toJSON());
    }
  };
  // Loaded once when the view opens; later changes come from saving.
  const [loadOnce] = useState(() => load);
  useEffect(() => {
    void loadOnce();
  }, [loadOnce]);

  if (!settings || !draft) {
    return (
      <section className="settings-view" data-testid="settings-view">
        {error ? <ErrorBox error={error} testId="settings-error" /> : <p className="placeholder">{t('settings.loading')}</p>}
      </section>
    );
  }

  const pinned = (key: string) => settings.overridden.find((entry) => entry.key === key)?.by;
  const update = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setStatus('idle');
    if (change.language || change.theme)
      onUiChange({ ...(change.language ? { language: change.language } : {}), ...(change.theme ? { theme: change.theme } : {}) });
  };
  const change = settingsChange(draft, settings);
  const dirty = Object.keys(change).length > 0;

  const save = async () => {
    setStatus('saving');
    setError(null);
    try {
      const saved = await transport.invoke('settings/update', change);
      setSettings(saved);
      if (saved.restartPending) {
        setStatus('reloading');
        await transport.invoke('system/reload', {});
        onReloading();
      } else setStatus('saved');
    } catch (failure) {
      setStatus('idle');
      setError(toNpllmError(failure).toJSON());
    }
  };

  const testDatabase = async () => {
    setStatus('testing');
    setError(null);
    try {
      await transport.invoke('settings/test-database', { url: draft.databaseKind === 'embedded' ? null : draft.databaseUrl.trim() || null });
      setStatus('tested');
    } catch (failure) {
      setStatus('idle');
      setError(toNpllmError(failure).toJSON());
    }
  };

  const download = async (id: string) => {
    setPull({ id, progress: null, error: null });
    try {
      await transport.stream('models/pull', { id }, { onProgress: (progress) => setPull({ id, progress, error: null }) });
      setPull(null);
      setModels((await transport.invoke('models/list', {})).items);
    } catch (failure) {
      setPull({ id, progress: null, error: toNpllmError(failure).toJSON() });
    }
  };

  const chosen = models.find((model) => model.id === draft.model);
  const note = (key: string) => {
    const by = pinned(key);
    return by ? (
      <span className="pinned" data-testid="settings-pinned">
        {t('settings.pinned', { by })}
      </span>
    ) : null;
  };
  const language = i18n.language;

  return (
    <section className="settings-view" data-testid="settings-view">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>{t('settings.model')}</legend>
          <label>
            {t('settings.modelName')}
            <select
              data-testid="settings-model"
              value={draft.model}
              disabled={!!pinned('model.name')}
              onChange={(event) => update({ model: event.target.value })}
            >
              {models.map((model) => (
                <option key={model.id} value={model.id}>
                  {model.name} ({formatNumber(model.sizeBytes / 1e9, language, 2)} GB{model.installed ? '' : `, ${t('settings.notDownloaded')}`})
                </option>
              ))}
            </select>
            {note('model.name')}
          </label>
          {chosen && <p className="muted">{chosen.description}</p>}
          {chosen && !chosen.installed && (
            <div className="download">
              <button
                type="button"
                className="ghost small"
                data-testid="settings-download"
                disabled={pull?.id === chosen.id && !pull.error}
                onClick={() => void download(chosen.id)}
              >
                {t('settings.download')}
              </button>
              {pull?.id === chosen.id && pull.progress && (
                <span data-testid="settings-download-progress">
                  <progress max={1} value={pull.progress.fraction ?? undefined} />{' '}
                  {pull.progress.bytes
                    ? `${formatNumber(pull.progress.bytes.done / 1e6, language)} / ${formatNumber(pull.progress.bytes.total / 1e6, language)} MB`
                    : pull.progress.label}
                  {pull.progress.etaSeconds ? ` · ${t('settings.eta', { seconds: formatNumber(pull.progress.etaSeconds, language) })}` : ''}
                </span>
              )}
              {pull?.id === chosen.id && pull.error && <ErrorBox error={pull.error} testId="settings-download-error" />}
            </div>
          )}
          <label>
            {t('settings.threads')}
            <input
              type="number"
              min={1}
              max={256}
              data-testid="settings-threads"
              placeholder={t('settings.threadsAuto')}
              value={draft.threads}
              disabled={!!pinned('model.threads')}
              onChange={(event) => update({ threads: event.target.value })}
            />
            {note('model.threads')}
          </label>
          <label>
            {t('settings.contextSize')}
            <input
              type="number"
              min={256}
              max={131072}
              step={256}
              data-testid="settings-context-size"
              value={draft.contextSize}
              disabled={!!pinned('model.contextSize')}
              onChange={(event) => update({ contextSize: event.target.value })}
            />
            {note('model.contextSize')}
          </label>
          <label>
            {t('settings.maxTokens')}
            <input
              type="number"
              min={1}
              max={8192}
              data-testid="settings-max-tokens"
              value={draft.maxTokens}
              disabled={!!pinned('model.maxTokens')}
              onChange={(event) => update({ maxTokens: event.target.value })}
            />
            {note('model.maxTokens')}
          </label>
        </fieldset>

        <fieldset>
          <legend>{t('settings.database')}</legend>
          <label className="inline">
            <input
              type="radio"
              name="database"
              data-testid="settings-database-embedded"
              checked={draft.databaseKind === 'embedded'}
              disabled={!!pinned('database.url')}
              onChange={() => update({ databaseKind: 'embedded' })}
            />
            {t('settings.embedded')}
          </label>
          <label className="inline">
            <input
              type="radio"
              name="database"
              data-testid="settings-database-postgres"
              checked={draft.databaseKind === 'postgres'}
              disabled={!!pinned('database.url')}
              onChange={() => update({ databaseKind: 'postgres' })}
            />
            {t('settings.postgres')}
          </label>
          {draft.databaseKind === 'postgres' && (
            <label>
              DATABASE_URL
              <input
                type="text"
                data-testid="settings-database-url"
                placeholder={t('settings.databaseUrlPlaceholder')}
                spellCheck={false}
                value={draft.databaseUrl}
                onChange={(event) => update({ databaseUrl: event.target.value })}
              />
            </label>
          )}
          {note('database.url')}
          <button
            type="button"
            className="ghost small"
            data-testid="settings-test-database"
            disabled={status === 'testing'}
            onClick={() => void testDatabase()}
          >
            {status === 'testing' ? t('settings.testing') : t('settings.testDatabase')}
          </button>
          {status === 'tested' && (
            <span className="ok-text" data-testid="settings-database-ok">
              {t('settings.databaseOk')}
            </span>
          )}
        </fieldset>

        <fieldset>
          <legend>{t('settings.appearance')}</legend>
          <label>
            {t('settings.language')}
            <select data-testid="language-select" value={draft.language} onChange={(event) => update({ language: event.target.value as UiLanguage })}>
              {uiLanguages.map((each) => (
                <option key={each} value={each}>
                  {t(`settings.languages.${each}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('settings.theme')}
            <select data-testid="settings-theme" value={draft.theme} onChange={(event) => update({ theme: event.target.value as UiTheme })}>
              {uiThemes.map((each) => (
                <option key={each} value={each}>
                  {t(`settings.themes.${each}`)}
                </option>
              ))}
            </select>
          </label>
          {transport.kind === 'desktop' && (
            <label>
              {t('settings.shortcut')}
              <input
                type="text"
                data-testid="settings-shortcut"
                value={draft.shortcut}
                spellCheck={false}
                onChange={(event) => update({ shortcut: event.target.value })}
              />
            </label>
          )}
        </fieldset>

        {apiKeys && (
          <fieldset>
            <legend>{t('settings.server')}</legend>
            <label>
              {t('settings.apiKey')}
              <input type="password" data-testid="settings-api-key" autoComplete="off" value={apiKey} onChange={(event) => setApiKey(event.target.value)} />
            </label>
            <button type="button" className="ghost small" data-testid="settings-api-key-save" onClick={() => apiKeys.remember(apiKey.trim() || null)}>
              {t('settings.apiKeySave')}
            </button>
            <p className="muted">{t('settings.apiKeyHint')}</p>
          </fieldset>
        )}

        {error && <ErrorBox error={error} testId="settings-error" />}
        <div className="card-actions">
          <span className="muted small-text" title={settings.file}>
            {t('settings.savedIn', { file: settings.file })}
          </span>
          <span className="spacer" />
          {status === 'saved' && (
            <span className="ok-text" data-testid="settings-saved">
              {t('settings.saved')}
            </span>
          )}
          {status === 'reloading' && <span data-testid="settings-reloading">{t('settings.reloading')}</span>}
          <button type="submit" data-testid="settings-save" disabled={!dirty || status === 'saving'}>
            {status === 'saving' ? t('settings.saving') : t('settings.save')}
          </button>
        </div>
      </form>
    </section>
  );
}
