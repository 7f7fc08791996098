import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModulatorStatus } from '../../shared/contract.js';
import { NpllmError } from '../../shared/errors.js';
import { createI18n } from './i18n.js';
import { ModulatorPanel } from './ModulatorPanel.js';

// Each new instance becomes react-i18next's default: the Portuguese one is only given through its provider.
const portuguese = createI18n('pt-BR');
createI18n('en');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;
beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});
afterEach(async () => {
  await settle(() => root.unmount());
  container.remove();
});

async function settle(change: () => unknown) {
  await act(async () => {
    change();
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

const status: ModulatorStatus = {
  enabled: true,
  version: 2,
  channel: 'stable',
  params: 2236150,
  oracleGap: 0.0123,
  levels: [0, 0.5, 1],
  exploration: 0.1,
  fallback: null,
  online: { pending: 3, learned: 41, updates: 41, lastUpdateAt: '2026-12-07T10:00:00.000Z' },
  versions: [
    {
      version: 2,
      channel: 'stable',
      origin: 'offline',
      parentVersion: 1,
      params: 2236150,
      metrics: { oracleGap: 0.0123 },
      reason: 'promoted: better on oracle gap',
      createdAt: '2026-12-07T10:00:00.000Z',
      promotedAt: '2026-12-07T10:00:00.000Z',
    },
    {
      version: 1,
      channel: 'archived',
      origin: 'online',
      parentVersion: null,
      params: 2236150,
      metrics: {},
      reason: 'replaced by v2',
      createdAt: '2026-12-06T10:00:00.000Z',
      promotedAt: null,
    },
  ],
  recent: [
    {
      interactionId: 'i1',
      createdAt: '2026-12-07T10:01:00.000Z',
      question: 'How do I add a widget?',
      project: '/work/shop',
      version: 2,
      source: 'network',
      scales: { odoo: 1, node: 0.5 },
      retrieve: true,
      explored: true,
      cached: false,
      reward: 0.46,
    },
  ],
};

const byTestId = (id: string) => container.querySelector<HTMLElement>(`[data-testid="${id}"]`);

async function show(load: () => Promise<ModulatorStatus>, inPortuguese = false) {
  const panel = <ModulatorPanel load={load} />;
  await act(async () => {
    root.render(inPortuguese ? <I18nextProvider i18n={portuguese}>{panel}</I18nextProvider> : panel);
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

describe('the modulator panel', () => {
  it('shows the serving version, its size and oracle gap, the versions and the latest decisions', async () => {
    await show(() => Promise.resolve(status));
    expect(byTestId('modulator-panel')!.dataset['version']).toBe('2');
    expect(byTestId('modulator-version')!.textContent).toBe('v2');
    expect(byTestId('modulator-gap')!.textContent).toBe('1.23 %');
    expect(byTestId('modulator-summary')!.textContent).toContain('2,236,150 parameters');
    expect([...container.querySelectorAll<HTMLElement>('[data-testid="modulator-version-row"]')].map((row) => row.dataset['channel'])).toEqual([
      'stable',
      'archived',
    ]);
    const decision = byTestId('modulator-decision')!;
    expect(decision.dataset['explored']).toBe('true');
    expect(decision.textContent).toContain('odoo 1, node 0.5 (explored)');
    expect(decision.textContent).toContain('0.46');
  });

  it('says when answers use the rules, and when the status cannot be read', async () => {
    await show(() =>
      Promise.resolve({
        ...status,
        version: 0,
        channel: 'prior',
        oracleGap: null,
        versions: [],
        recent: [],
        fallback: "Modulator v2's file changed since it was registered.",
      }),
    );
    expect(byTestId('modulator-version')!.textContent).toBe('v0 (the rules)');
    expect(byTestId('modulator-gap')!.textContent).toBe('not evaluated yet');
    expect(byTestId('modulator-fallback')!.textContent).toMatch(/changed since it was registered/);
    await settle(() => root.unmount());
    root = createRoot(container);
    await show(() => Promise.reject(new NpllmError('INTERNAL', 'engine gone')));
    expect(byTestId('modulator-panel')!.dataset['state']).toBe('unavailable');
    expect(byTestId('modulator-message')!.textContent).toMatch(/engine gone/);
  });

  it('speaks Portuguese, with its numbers and dates', async () => {
    await show(() => Promise.resolve({ ...status, enabled: false, fallback: 'the file changed' }), true);
    expect(byTestId('modulator-panel')!.querySelector('h2')!.textContent).toMatch(/^Modulador v2 Atualizar$/);
    expect(byTestId('modulator-gap')!.textContent).toBe('1,23 %');
    expect(byTestId('modulator-summary')!.textContent).toBe(
      '2.236.150 parâmetros · lacuna em relação ao oráculo 1,23 % · escalas 0 / 0,5 / 1 · explorando 10 % das respostas novas · ' +
        '41 recompensas aprendidas, 3 aguardando · desativado',
    );
    expect(byTestId('modulator-fallback')!.textContent).toBe('Respondendo com as regras: the file changed');
    expect([...byTestId('modulator-versions')!.querySelectorAll('th')].map((header) => header.textContent)).toEqual([
      'versão',
      'canal',
      'origem',
      'lacuna do oráculo',
      'motivo',
    ]);
    expect(byTestId('modulator-version-row')!.textContent).toContain('estável');
    const decision = byTestId('modulator-decision')!;
    expect(decision.textContent).toContain('odoo 1; node 0,5 (exploração)');
    expect(decision.textContent).toContain('sim');
    expect(decision.textContent).toContain('0,46');
    // pt-BR writes dates day/month/year.
    expect(decision.querySelector('td')!.textContent).toMatch(/^\d{2}\/12\/2026/);
  });
});
