import { useTranslation } from 'react-i18next';
import type { SerializedError } from '../../shared/errors.js';
import { errorText } from './ui-error.js';

/** A failure with what to do about it. */
export function ErrorBox({ error, testId = 'error' }: { error: SerializedError; testId?: string }) {
  const { t } = useTranslation();
  const { title, message, fix } = errorText(error, t);
  return (
    <div className="error" role="alert" data-testid={testId} data-code={error.code}>
      {title && (
        <p className="error-title" data-testid="error-title">
          {title}
        </p>
      )}
      <strong data-testid="error-message">{message}</strong>
      {fix && (
        <p data-testid="error-fix">
          <span className="label">{t('error.fix')}</span> {fix}
        </p>
      )}
    </div>
  );
}
