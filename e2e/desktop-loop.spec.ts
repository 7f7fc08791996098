/**
 * The desktop loop in the browser UI, against a real `npllm serve` (real model, real PGlite, real
 * indexing): type or drop a project folder → its context card shows the detected stacks → edit
 * and confirm → indexing progress → ask about its code → the answer lists its sources → reload →
 * the conversation is in the sidebar and reopens → the learning tab offers to learn the project →
 * the behaviour tab counts the questions; and every bad input gets a message with what to do,
 * without losing what was typed. Screenshots of each step illustrate docs/guides.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { ProjectProfile } from '../shared/contract.js';
import { screenshot } from './screenshots.js';
import { startNpllmServer, type NpllmServer } from './server.js';

test.describe.configure({ mode: 'serial' });

let server: NpllmServer;
let page: Page;
let shop: string;
let notes: string;

/** A small Django project whose code names a symbol the question asks about. */
function writeShop(root: string): void {
  mkdirSync(join(root, 'shop'), { recursive: true });
  writeFileSync(join(root, 'pyproject.toml'), '[project]\nname = "shop"\nversion = "1.0.0"\ndependencies = ["django>=4.2"]\n');
  writeFileSync(
    join(root, 'manage.py'),
    'import os\nimport sys\n\nif __name__ == "__main__":\n    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n',
  );
  writeFileSync(
    join(root, 'shop', 'refund.py'),
    'from decimal import Decimal\n\n\ndef compute_refund(order, reason):\n    """The amount given back for a returned order: everything but a 10% restocking fee."""\n    if reason == "damaged":\n        return order.total\n    return (order.total * Decimal("0.9")).quantize(Decimal("0.01"))\n',
  );
  writeFileSync(join(root, 'shop', 'models.py'), 'class Order:\n    def __init__(self, total):\n        self.total = total\n');
}

test.beforeAll(async ({ browser }) => {
  server = await startNpllmServer();
  shop = join(server.home, 'projects', 'shop');
  notes = join(server.home, 'projects', 'notes');
  writeShop(shop);
  mkdirSync(notes, { recursive: true });
  writeFileSync(join(notes, 'ideas.txt'), 'nothing a stack detector knows\n');
  page = await browser.newPage({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
});

test.afterAll(async () => {
  await page?.close();
  await server?.stop();
});

/** A drop on the window as Chromium delivers it: folders as file:// URIs (a file manager's drag), or a file whose path the page cannot see. */
async function drop(target: Page, what: { uris?: string[]; file?: string }): Promise<void> {
  await target.evaluate(`(() => {
    const data = new DataTransfer();
    const uris = ${JSON.stringify((what.uris ?? []).map((path) => `file://${path}`))};
    if (uris.length) data.setData('text/uri-list', uris.join('\\r\\n'));
    if (${JSON.stringify(what.file ?? null)}) data.items.add(new File(['x'], ${JSON.stringify(what.file ?? '')}));
    document.querySelector('.app').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  })()`);
}

const pathField = () => page.getByTestId('project-path');

async function openPath(path: string): Promise<void> {
  await pathField().fill(path);
  await pathField().press('Enter');
}

test('an empty app says how to start, in the app', async () => {
  await page.goto('/');
  await expect(page.getByTestId('health-model')).toContainText('SmolLM2');
  await expect(page.getByTestId('projects-empty')).toBeVisible();
  await expect(page.getByTestId('conversations-empty')).toBeVisible();
  await screenshot(page, 'first-start');
});

test('bad folders get a message with the fix, and the path field keeps what was typed', async () => {
  const missing = join(server.home, 'projects', 'gone');
  await openPath(missing);
  await expect(page.getByTestId('project-error')).toHaveAttribute('data-code', 'NOT_FOUND');
  await expect(page.getByTestId('project-error')).toContainText('does not exist');
  await expect(pathField()).toHaveValue(missing);

  await openPath(join(shop, 'manage.py'));
  await expect(page.getByTestId('project-error')).toContainText('is a file, not a project folder');
  await expect(page.getByTestId('project-error').getByTestId('error-fix')).toContainText('folder');

  await openPath('/etc');
  await expect(page.getByTestId('project-error')).toContainText('outside the folders');
  await expect(page.getByTestId('project-error').getByTestId('error-fix')).toContainText('allowedRoots');
  await expect(pathField()).toHaveValue('/etc');
  await expect(page.getByTestId('context-card')).toHaveCount(0);

  // Several folders dropped at once.
  await drop(page, { uris: [shop, notes] });
  await expect(page.getByTestId('project-error')).toContainText('Several items were dropped');
  await expect(page.getByTestId('project-error').getByTestId('error-fix')).toContainText('one project folder at a time');

  // A dropped file whose path the browser hides.
  await drop(page, { file: 'shop.zip' });
  await expect(page.getByTestId('project-error')).toContainText('does not tell npllm where the dropped folder is');
});

test('a folder without a known stack says so and can still be confirmed with stacks added', async () => {
  await openPath(notes);
  const card = page.getByTestId('context-card');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('context-no-stack')).toBeVisible();
  await page.getByTestId('context-cancel').click();
  await expect(card).toHaveCount(0);
});

test('dropping the project folder shows its detected stacks; editing and confirming stores them', async () => {
  // A file manager's drag carries the folder as a file:// URI.
  await drop(page, { uris: [shop] });
  const card = page.getByTestId('context-card');
  await expect(card).toContainText('django');
  await expect(card).toContainText('python');
  await expect(card).toContainText('pyproject.toml');
  await screenshot(page, 'context-card');

  // Change django's version, add a stack, remove python.
  const django = card.locator('[data-testid="context-stack"][data-stack="django"]');
  await django.getByTestId('context-stack-version').fill('5.0');
  await card.locator('[data-testid="context-stack"][data-stack="python"]').getByTestId('context-stack-remove').click();
  await page.getByTestId('context-add').click();
  await card.getByTestId('context-stack-name').last().fill('celery');
  // A stack npllm does not know is refused with the ones it knows; the card keeps every edit.
  await page.getByTestId('context-confirm').click();
  await expect(page.getByTestId('context-error')).toContainText('Unknown stack "celery"');
  await expect(page.getByTestId('context-error').getByTestId('error-fix')).toContainText('fastapi');
  await expect(django.getByTestId('context-stack-version')).toHaveValue('5.0');
  await card.getByTestId('context-stack-name').last().fill('fastapi');

  await page.getByTestId('context-confirm').click();
  await expect(card).toHaveCount(0);

  // Indexing runs in the background and shows its progress while the chat stays usable.
  await expect(page.getByTestId('index-progress')).toBeVisible();
  await page.getByTestId('chat-input').fill('typed while indexing');
  await expect(page.getByTestId('chat-input')).toHaveValue('typed while indexing');
  await page.getByTestId('chat-input').fill('');
  const item = page.locator(`[data-testid="project-item"][data-root="${shop}"]`);
  await expect(item.getByTestId('project-index-state')).toContainText('chunks indexed');
  await expect(item).toHaveAttribute('data-confirmed', 'true');
  await expect(item).toContainText('django 5.0');
  await expect(item).toContainText('fastapi');
  await expect(item).toHaveAttribute('aria-pressed', 'true');

  await expect(page.getByTestId('index-progress')).toHaveCount(0);
  // The progress the page showed is the engine's stream: asked again, it streams its scan and its end.
  const again = await (await page.request.post('/api/rag/index', { data: { path: shop }, headers: { accept: 'text/event-stream' } })).text();
  expect(again).toContain('"type":"progress"');
  expect(again).toContain('"type":"done"');

  const profile = (await (await page.request.post('/api/context/get', { data: { path: shop } })).json()) as { profile: ProjectProfile };
  expect(profile.profile.edited).toBe(true);
  expect(profile.profile.stacks.map((stack) => `${stack.name}@${stack.version ?? ''}`).sort()).toEqual(['django@5.0', 'fastapi@']);
});

test('a question about the project is answered with its sources', async () => {
  await page.getByTestId('chat-input').fill('What does compute_refund in shop/refund.py return?');
  await page.getByTestId('chat-input').press('Enter');
  const answer = page.getByTestId('answer').first();
  await expect(answer).toHaveAttribute('data-status', 'done');
  await expect(answer.getByTestId('sources')).toContainText('compute_refund');
  await expect(answer.getByTestId('sources')).toContainText('shop/refund.py');
  await screenshot(page, 'answer-with-sources');
  await expect(page.getByTestId('conversation-list').getByTestId('conversation-item')).toHaveCount(1);
});

test('after a reload the conversation is in the sidebar and reopens with its sources', async () => {
  await page.reload();
  const item = page.getByTestId('conversation-list').getByTestId('conversation-item');
  await expect(item).toHaveCount(1);
  await expect(item.getByTestId('conversation-title')).toHaveText('What does compute_refund in shop/refund.py return?');
  await expect(page.locator(`[data-testid="project-item"][data-root="${shop}"]`)).toHaveAttribute('aria-pressed', 'true');
  await item.locator('.conversation-open').click();
  const answer = page.getByTestId('answer').first();
  await expect(answer).toHaveAttribute('data-status', 'done');
  await expect(answer.getByTestId('sources')).toContainText('compute_refund');
  await expect(page.getByTestId('question-text')).toHaveText('What does compute_refund in shop/refund.py return?');
});

test('a conversation is renamed and another one deleted; both survive a reload', async () => {
  const list = page.getByTestId('conversation-list');
  await list.getByTestId('conversation-rename').first().click();
  await page.getByTestId('conversation-title-input').fill('Refund rules');
  await page.getByTestId('conversation-rename-save').click();
  await expect(list.getByTestId('conversation-title')).toHaveText(['Refund rules']);

  await page.getByTestId('new-chat').click();
  await page.getByTestId('chat-input').fill('How do I run the shop tests?');
  await page.getByTestId('chat-input').press('Enter');
  await expect(page.getByTestId('answer').first()).toHaveAttribute('data-status', 'done');
  await expect(list.getByTestId('conversation-item')).toHaveCount(2);
  const second = list.locator('[data-testid="conversation-item"]', { hasText: 'How do I run the shop tests?' });
  await second.getByTestId('conversation-delete').click();
  await page.getByTestId('conversation-delete-yes').click();
  await expect(list.getByTestId('conversation-item')).toHaveCount(1);

  await page.reload();
  await expect(list.getByTestId('conversation-title')).toHaveText(['Refund rules']);
  await screenshot(page, 'conversations');
});

test('an edited question is asked again in place of the original', async () => {
  await page.getByTestId('conversation-list').locator('.conversation-open').first().click();
  await expect(page.getByTestId('answer')).toHaveCount(1);
  await page.getByTestId('edit-question').first().click();
  await expect(page.getByTestId('chat-input')).toHaveValue('What does compute_refund in shop/refund.py return?');
  await page.getByTestId('chat-input').fill('What does compute_refund return for a damaged order?');
  await page.getByTestId('chat-input').press('Enter');
  await expect(page.getByTestId('question-text')).toHaveText(['What does compute_refund return for a damaged order?']);
  await expect(page.getByTestId('answer').first()).toHaveAttribute('data-status', 'done');
});

test('Esc stops an answer while it streams', async () => {
  await page.getByTestId('new-chat').click();
  await page.getByTestId('chat-input').fill('Explain, step by step and at length, how Django migrations work.');
  await page.getByTestId('chat-input').press('Enter');
  await page.locator('[data-testid="answer"][data-status="streaming"] [data-testid="answer-text"] :is(p, pre, li, h1, h2, h3)').first().waitFor();
  await page.getByTestId('chat-input').press('Escape');
  await expect(page.getByTestId('answer').first()).toHaveAttribute('data-status', 'cancelled');
});

test('the learning tab shows the project and what to do in the app', async () => {
  await page.getByTestId('learning-tab').click();
  await expect(page.getByTestId('learning-view')).toBeVisible();
  await expect(page.getByTestId('learning-empty')).not.toContainText('--project');
  await expect(page.getByTestId('learning-empty')).toContainText('Open a project');
  await expect(page.getByTestId('learn-now')).toContainText('shop');
  await page.getByTestId('learn-now').click();
  await expect(page.getByTestId('learn-now-confirm')).toContainText('shop');
  await screenshot(page, 'learning');
  await page.getByTestId('learn-now-confirm').getByRole('button', { name: 'Cancel' }).click();
});

test('the behaviour tab shows the questions asked, per project and over time', async () => {
  await page.getByTestId('behaviour-tab').click();
  const view = page.getByTestId('behaviour-view');
  await expect(view.getByTestId('metric-interactions')).toContainText(/[3-9]/);
  await expect(view.getByTestId('metric-retrieval')).toContainText('%');
  await expect(view.getByTestId('behaviour-rates-chart').locator('.recharts-wrapper > svg.recharts-surface')).toBeVisible();
  await expect(view.getByTestId('behaviour-latency-chart').locator('.recharts-wrapper > svg.recharts-surface')).toBeVisible();
  await screenshot(page, 'behaviour');
  await page.getByTestId('behaviour-scope').selectOption('all');
  await expect(view.getByTestId('behaviour-project').first()).toBeVisible();
});

test("answers render GitHub Markdown with highlighted code, and never the model's HTML", async () => {
  const markdown = [
    '## Refunds',
    '',
    '| reason | refund |',
    '|---|---|',
    '| damaged | 100% |',
    '| other | 90% |',
    '',
    '- first item',
    '- [docs](https://docs.djangoproject.com/)',
    '',
    '<img src="x" onerror="window.__pwned = true"><script>window.__pwned = true</script>',
    '',
    '```python',
    'def compute_refund(order):',
    '    return order.total',
    '```',
  ].join('\n');
  // The stream is the engine's format; its text is one the tiny model would not reliably write.
  await page.route('**/api/chat/ask', (route) =>
    route.fulfill({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: `data: ${JSON.stringify({ type: 'token', text: markdown })}\n\ndata: ${JSON.stringify({
        type: 'done',
        result: {
          interactionId: 'markdown-demo',
          answer: markdown,
          cached: false,
          cachedFrom: null,
          model: 'demo',
          adapters: [],
          timings: { ttftMs: 1, totalMs: 1, tokens: 1, promptTokens: 1, loadMs: 0 },
          finishReason: 'stop',
          retrieval: { used: false, reasons: [], sources: [] },
          conversationId: null,
          createdAt: new Date().toISOString(),
        },
      })}\n\n`,
    }),
  );
  await page.getByTestId('chat-tab').click();
  if (await page.getByTestId('new-chat').isEnabled()) await page.getByTestId('new-chat').click();
  await page.getByTestId('chat-input').fill('Show the refund rules as a table');
  await page.getByTestId('chat-input').press('Enter');
  const text = page.getByTestId('answer').first().getByTestId('answer-text');
  await expect(text.locator('h2')).toHaveText('Refunds');
  await expect(text.locator('table td')).toHaveCount(4);
  await expect(text.locator('li')).toHaveCount(2);
  await expect(text.locator('a')).toHaveAttribute('href', 'https://docs.djangoproject.com/');
  await expect(text.getByTestId('code-language')).toHaveText('python');
  await expect(text.locator('pre code .hljs-keyword').first()).toHaveText('def');
  await expect(text.locator('img, script')).toHaveCount(0);
  expect(await page.evaluate('window.__pwned')).toBeUndefined();
  await screenshot(page, 'markdown');
  await page.unroute('**/api/chat/ask');
});

test('the same screens in Portuguese (for the pt-BR guide)', async () => {
  await page.getByTestId('settings').click();
  await page.getByTestId('language-select').selectOption('pt-BR');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('chat-tab')).toHaveText('Chat');
  await expect(page.getByTestId('learning-tab')).toHaveText('Aprendizado');
  // The newest conversation is the general question Esc stopped; the one about refunds has sources.
  await page.getByTestId('conversation-list').locator('[data-testid="conversation-item"]', { hasText: 'Refund rules' }).locator('.conversation-open').click();
  await expect(page.getByTestId('answer').first().getByTestId('sources')).toContainText('Fontes');
  await screenshot(page, 'answer-with-sources');
  await screenshot(page, 'conversations');
  await openPath(shop);
  await expect(page.getByTestId('context-card')).toContainText('Contexto do projeto');
  await screenshot(page, 'context-card');
  await page.getByTestId('context-cancel').click();
  await page.getByTestId('learning-tab').click();
  await expect(page.getByTestId('learn-now')).toContainText('Aprender shop agora');
  await screenshot(page, 'learning');
  await page.getByTestId('behaviour-tab').click();
  await expect(page.getByTestId('metric-interactions')).toContainText('Perguntas');
  await screenshot(page, 'behaviour');
});
