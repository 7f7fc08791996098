/** The server's API key, asked for in the app when the server refuses a request (never window.prompt). */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiKeyReason } from './transport.js';

export interface ApiKeyPrompter {
  setPrompter(prompter: ((reason: ApiKeyReason) => Promise<string | null>) | null): void;
}

export function ApiKeyDialog({ keys }: { keys: ApiKeyPrompter }) {
  const { t } = useTranslation();
  const [pending, setPending] = useState<{ reason: ApiKeyReason; answer: (key: string | null) => void } | null>(null);
  const [value, setValue] = useState('');
  useEffect(() => {
    keys.setPrompter((reason) => new Promise((answer) => setPending({ reason, answer })));
    return () => keys.setPrompter(null);
  }, [keys]);
  if (!pending) return null;
  const close = (key: string | null) => {
    pending.answer(key);
    setPending(null);
    setValue('');
  };
  return (
    <div className="dialog-backdrop">
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="api-key-title"
        data-testid="api-key-dialog"
        data-reason={pending.reason}
        onSubmit={(event) => {
          event.preventDefault();
          close(value.trim() || null);
        }}
      >
        <h2 id="api-key-title">{t('apiKey.title')}</h2>
        <p>{pending.reason === 'refused' ? t('apiKey.refused') : t('apiKey.missing')}</p>
        <input
          type="password"
          autoFocus
          autoComplete="off"
          data-testid="api-key-input"
          aria-label={t('settings.apiKey')}
          value={value}
          onChange={(event) => setValue(event.target.value)}
        />
        <div className="card-actions">
          <span className="spacer" />
          <button type="button" className="ghost" onClick={() => close(null)}>
            {t('card.cancel')}
          </button>
          <button type="submit" data-testid="api-key-save" disabled={!value.trim()}>
            {t('apiKey.use')}
          </button>
        </div>
      </form>
    </div>
  );
}
