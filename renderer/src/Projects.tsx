/** The project side of the window: the path field, the open-folder button, the project list and the context card. */
import { useStore } from 'zustand';
import { useTranslation } from 'react-i18next';
import type { ProjectSummary } from '../../shared/contract.js';
import { ErrorBox } from './ErrorBox.js';
import { projectOutcomeKey } from './learning-format.js';
import { formatDateTime, formatNumber, formatPercentValue } from './locale-format.js';
import type { ProjectsStore } from './projects-store.js';

export interface ProjectPanelProps {
  store: ProjectsStore;
  /** The desktop's folder dialog; absent in a browser. */
  pickFolder?: (() => Promise<string | null>) | undefined;
  onSelect: (root: string | null) => void;
}

export function ProjectPanel({ store, pickFolder, onSelect }: ProjectPanelProps) {
  const { t, i18n } = useTranslation();
  const projects = useStore(store, (state) => state.projects);
  const selected = useStore(store, (state) => state.selected);
  const path = useStore(store, (state) => state.path);
  const detecting = useStore(store, (state) => state.detecting);
  const pathError = useStore(store, (state) => state.pathError);
  const indexing = useStore(store, (state) => state.indexing);
  const { setPath, open } = store.getState();
  const language = i18n.language;

  const pick = async () => {
    const folder = await pickFolder?.();
    if (folder) await open(folder);
  };

  return (
    <section className="panel projects" aria-label={t('projects.title')}>
      <h2>{t('projects.title')}</h2>
      <form
        className="path-form"
        onSubmit={(event) => {
          event.preventDefault();
          void open();
        }}
      >
        <input
          type="text"
          data-testid="project-path"
          value={path}
          placeholder={t('projects.pathPlaceholder')}
          aria-label={t('projects.pathLabel')}
          spellCheck={false}
          onChange={(event) => setPath(event.target.value)}
        />
        <button type="submit" className="small" disabled={!path.trim() || detecting} data-testid="project-open">
          {detecting ? t('projects.detecting') : t('projects.open')}
        </button>
      </form>
      {pickFolder && (
        <button type="button" className="ghost small wide" data-testid="project-pick" onClick={() => void pick()}>
          {t('projects.pick')}
        </button>
      )}
      <p className="hint">{pickFolder ? t('projects.dropHintDesktop') : t('projects.dropHintBrowser')}</p>
      {pathError && <ErrorBox error={pathError} testId="project-error" />}
      <ul className="project-list" data-testid="project-list">
        <li>
          <button
            type="button"
            className={`project-item none${selected === null ? ' selected' : ''}`}
            aria-pressed={selected === null}
            data-testid="project-none"
            onClick={() => onSelect(null)}
          >
            {t('projects.none')}
          </button>
        </li>
        {projects.map((project) => (
          <li key={project.root}>
            <ProjectItem
              project={project}
              selected={project.root === selected}
              indexingLabel={indexing[project.root]?.progress ? progressText(indexing[project.root]!.progress!.fraction, language) : null}
              onSelect={onSelect}
            />
          </li>
        ))}
      </ul>
      {projects.length === 0 && (
        <p className="muted" data-testid="projects-empty">
          {t('projects.empty')}
        </p>
      )}
    </section>
  );
}

function progressText(fraction: number | null, language: string): string {
  return fraction === null ? '…' : formatPercentValue(fraction, language);
}

function ProjectItem({
  project,
  selected,
  indexingLabel,
  onSelect,
}: {
  project: ProjectSummary;
  selected: boolean;
  indexingLabel: string | null;
  onSelect: (root: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const indexState =
    indexingLabel !== null
      ? t('projects.indexing', { progress: indexingLabel })
      : project.index.lastIndexedAt
        ? t('projects.indexed', { chunks: formatNumber(project.index.chunks, i18n.language) })
        : t('projects.notIndexed');
  const learning = project.learning;
  const outcome = learning.lastOutcome === null ? null : projectOutcomeKey(learning.lastOutcome);
  const outcomeText = outcome
    ? `${outcome.version === null ? '' : `v${outcome.version} `}${t(`learning.outcome.${outcome.key}`)}`
    : (learning.lastOutcome ?? '');
  const learningState =
    learning.state === 'running'
      ? t('projects.learningRunning')
      : learning.state === 'queued'
        ? t('projects.learningQueued')
        : learning.state === 'learned'
          ? t('projects.learned', { outcome: outcomeText, when: learning.lastRunAt ? formatDateTime(learning.lastRunAt, i18n.language) : '' })
          : t('projects.neverLearned');
  return (
    <button
      type="button"
      className={`project-item${selected ? ' selected' : ''}`}
      aria-pressed={selected}
      title={project.root}
      data-testid="project-item"
      data-root={project.root}
      data-confirmed={project.confirmed}
      data-learning={learning.state}
      onClick={() => onSelect(project.root)}
    >
      <span className="project-name">{project.name}</span>
      <span className="stacks">
        {project.confirmed ? (
          project.stacks.map((stack) => (
            <span key={stack.name} className="badge">
              {stack.version ? `${stack.name} ${stack.version}` : stack.name}
            </span>
          ))
        ) : (
          <span className="badge warn">{t('projects.unconfirmed')}</span>
        )}
      </span>
      <span className="project-state" data-testid="project-index-state">
        {indexState}
      </span>
      <span className="project-state" data-testid="project-learning-state">
        {learningState}
      </span>
    </button>
  );
}

/** The detected stacks of a folder, editable, and Confirm. */
export function ContextCardView({ store }: { store: ProjectsStore }) {
  const { t, i18n } = useTranslation();
  const card = useStore(store, (state) => state.card);
  const { editStack, removeStack, addStack, closeCard, confirm } = store.getState();
  if (!card) return null;
  const names = card.stacks.map((stack) => stack.name.trim()).filter(Boolean);
  return (
    <section className="context-card" data-testid="context-card" aria-label={t('card.title')}>
      <header>
        <h2>{t('card.title')}</h2>
        <code title={card.root}>{card.root}</code>
      </header>
      <p className="muted">
        {t('card.scanned', { files: formatNumber(card.proposal.scannedFiles, i18n.language) })}
        {card.proposal.truncated ? ` ${t('card.truncated')}` : ''}
      </p>
      {card.stacks.length === 0 && (
        <p className="warning" data-testid="context-no-stack">
          {t('card.noStack')}
        </p>
      )}
      <table className="stacks-table">
        <thead>
          <tr>
            <th scope="col">{t('card.stack')}</th>
            <th scope="col">{t('card.version')}</th>
            <th scope="col">{t('card.confidence')}</th>
            <th scope="col">{t('card.evidence')}</th>
            <th scope="col" aria-label={t('card.remove')} />
          </tr>
        </thead>
        <tbody>
          {card.stacks.map((stack, index) => (
            <tr key={index} data-testid="context-stack" data-stack={stack.name}>
              <td>
                {/* A detected stack's name is text (the card reads as what was found); a stack the person adds is typed. */}
                {stack.confidence === null ? (
                  <input
                    value={stack.name}
                    aria-label={t('card.stack')}
                    data-testid="context-stack-name"
                    placeholder={t('card.stackPlaceholder')}
                    spellCheck={false}
                    autoFocus
                    onChange={(event) => editStack(index, { name: event.target.value })}
                  />
                ) : (
                  <span className="stack-name" data-testid="context-stack-label">
                    {stack.name}
                  </span>
                )}
              </td>
              <td>
                <input
                  value={stack.version}
                  aria-label={t('card.version')}
                  data-testid="context-stack-version"
                  placeholder={t('card.anyVersion')}
                  spellCheck={false}
                  onChange={(event) => editStack(index, { version: event.target.value })}
                />
              </td>
              <td className="number">{stack.confidence === null ? t('card.added') : formatPercentValue(stack.confidence, i18n.language)}</td>
              <td className="evidence">
                {stack.evidence.slice(0, 3).map((line) => (
                  <div key={line}>{line}</div>
                ))}
              </td>
              <td>
                <button
                  type="button"
                  className="ghost small"
                  data-testid="context-stack-remove"
                  aria-label={t('card.removeNamed', { name: stack.name })}
                  onClick={() => removeStack(index)}
                >
                  ×
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {card.error && <ErrorBox error={card.error} testId="context-error" />}
      <div className="card-actions">
        <button type="button" className="ghost small" data-testid="context-add" onClick={() => addStack()}>
          {t('card.add')}
        </button>
        <span className="spacer" />
        <button type="button" className="ghost" data-testid="context-cancel" onClick={() => closeCard()}>
          {t('card.cancel')}
        </button>
        <button
          type="button"
          data-testid="context-confirm"
          disabled={card.confirming}
          title={names.length === 0 ? t('card.confirmWithout') : undefined}
          onClick={() => void confirm()}
        >
          {card.confirming ? t('card.confirming') : t('card.confirm')}
        </button>
      </div>
    </section>
  );
}
