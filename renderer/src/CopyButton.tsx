import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { copyText } from './clipboard.js';

type CopyState = 'idle' | 'copied' | 'failed';

/**
 * Its label comes from CSS (`data-label`), so a code block's button adds no text to the answer:
 * selecting or reading the answer's text gets the answer only.
 */
export function CopyButton({ text, what, testId, onCopied }: { text: string; what: 'answer' | 'code'; testId: string; onCopied: () => void }) {
  const { t } = useTranslation();
  const [state, setState] = useState<CopyState>('idle');
  const reset = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(reset.current), []);
  const onClick = async () => {
    const ok = await copyText(text);
    if (ok) onCopied();
    setState(ok ? 'copied' : 'failed');
    clearTimeout(reset.current);
    reset.current = setTimeout(() => setState('idle'), 2000);
  };
  const label = t(`copy.${state}`);
  return (
    <button
      type="button"
      className={`ghost small copy copy-${what}`}
      data-testid={testId}
      data-state={state}
      data-label={label}
      aria-label={state === 'idle' ? t(`copy.idle-${what}`) : label}
      title={state === 'failed' ? t('copy.refused') : t(`copy.title-${what}`)}
      onClick={() => void onClick()}
    />
  );
}
