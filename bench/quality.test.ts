import { describe, expect, it } from 'vitest';
import { checkEveryday } from './quality-everyday.js';
import { codeBlocks, extractCompletion, extractQuery, proseLanguage } from './quality-extract.js';
import { checkHumanEval, humanEvalQuestion, type Problem } from './quality-humaneval.js';
import { everydayQuestions } from './quality-questions.js';
import { runPython } from './quality-sandbox.js';

/** Two problems in HumanEval's format (written here, not taken from the dataset). */
const addProblem: Problem = {
  taskId: 'Test/0',
  entryPoint: 'add_all',
  prompt: 'from typing import List\n\n\ndef add_all(numbers: List[int]) -> int:\n    """ Sum of the numbers.\n    >>> add_all([1, 2, 3])\n    6\n    """\n',
  test: '\n\ndef check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n    assert candidate([-4, 4, 10]) == 10\n',
};
const shoutProblem: Problem = {
  taskId: 'Test/1',
  entryPoint: 'shout',
  prompt:
    'def helper(text):\n    return text.strip()\n\n\ndef shout(text: str) -> str:\n    """ Upper-case the stripped text and add "!".\n    >>> shout(" hi ")\n    \'HI!\'\n    """\n',
  test: "\n\ndef check(candidate):\n    assert candidate(' hi ') == 'HI!'\n    assert candidate('a') == 'A!'\n",
};

const answer = (code: string, language = 'python') => `Here is the function:\n\n\`\`\`${language}\n${code}\n\`\`\`\n\nIt works by iterating.`;

describe('code extraction', () => {
  it('finds fenced blocks, their language and whether they were closed', () => {
    const blocks = codeBlocks('a\n```Python\nx = 1\n```\ntext\n~~~\ny\n~~~\n  ```ts\nlet z;\n');
    expect(blocks).toEqual([
      { language: 'python', code: 'x = 1', closed: true },
      { language: '', code: 'y', closed: true },
      { language: 'ts', code: 'let z;', closed: false },
    ]);
  });

  it('takes a fence inside a list item off its indentation', () => {
    const text = '1. Define the class:\n\n   ```python\n   class A:\n       x = 1\n   ```\n2. Done.';
    expect(codeBlocks(text)).toEqual([{ language: 'python', code: 'class A:\n    x = 1', closed: true }]);
  });

  it('takes the block that defines the entry point as a whole function', () => {
    const text = `${answer('print(add_all([1]))')}\n\n${answer('def add_all(numbers):\n    return sum(numbers)')}`;
    expect(extractCompletion(text, 'add_all')).toEqual({ kind: 'function', code: 'def add_all(numbers):\n    return sum(numbers)', truncated: false });
  });

  it('indents a flush-left body and keeps an indented one', () => {
    expect(extractCompletion(answer('total = 0\nfor n in numbers:\n    total += n\nreturn total'), 'add_all')).toEqual({
      kind: 'body',
      code: '    total = 0\n    for n in numbers:\n        total += n\n    return total',
      truncated: false,
    });
    expect(extractCompletion(answer('    return sum(numbers)'), 'add_all')).toEqual({ kind: 'body', code: '    return sum(numbers)', truncated: false });
  });

  it('reads unfenced code only when it plainly defines the function, and stops at prose', () => {
    const text = 'Sure.\ndef add_all(numbers):\n    return sum(numbers)\n\nThis sums the list.';
    expect(extractCompletion(text, 'add_all')).toEqual({ kind: 'function', code: 'def add_all(numbers):\n    return sum(numbers)\n', truncated: false });
    expect(extractCompletion('I cannot help with that.', 'add_all')).toEqual({ kind: 'none', code: '', truncated: false });
  });

  it('takes the first SELECT of an SQL answer, past schema and comments', () => {
    const text = answer('CREATE TABLE t (id int);\n-- the query\nSELECT id\nFROM t; SELECT 2;', 'sql');
    expect(extractQuery(text)).toBe('SELECT id\nFROM t');
  });

  it('asks HumanEval problems in one fixed sentence', () => {
    expect(humanEvalQuestion(addProblem)).toBe(`Complete this Python function:\n\`\`\`python\n${addProblem.prompt.trim()}\n\`\`\``);
  });
});

describe('HumanEval checker (real python3)', () => {
  it('passes known-good completions: a whole function, a body, a function using a helper from the prompt', async () => {
    await expect(
      checkHumanEval(addProblem, answer('def add_all(numbers):\n    return sum(numbers)\n\nprint(add_all([1, 2]))\nassert add_all([1]) == 999')),
    ).resolves.toMatchObject({ kind: 'function', verdict: 'pass' });
    await expect(checkHumanEval(addProblem, answer('return sum(numbers)'))).resolves.toMatchObject({ kind: 'body', verdict: 'pass' });
    await expect(checkHumanEval(shoutProblem, answer('def shout(text: str) -> str:\n    return helper(text).upper() + "!"'))).resolves.toMatchObject({
      verdict: 'pass',
    });
  });

  it('fails known-bad completions by category', async () => {
    await expect(checkHumanEval(addProblem, answer('def add_all(numbers):\n    return numbers[5]'))).resolves.toMatchObject({ verdict: 'runtime' });
    await expect(checkHumanEval(addProblem, answer('def add_all(numbers):\n    return len(numbers)'))).resolves.toMatchObject({ verdict: 'assertion' });
    await expect(checkHumanEval(shoutProblem, answer('def shout(text):\n    return text.upper(+ "!"'))).resolves.toMatchObject({ verdict: 'syntax' });
    await expect(checkHumanEval(shoutProblem, 'Just upper-case it.')).resolves.toMatchObject({ kind: 'none', verdict: 'no-code' });
  });

  it('does not count a candidate that exits the process as passing', async () => {
    const exits = answer('import os, sys\ndef add_all(numbers):\n    sys.exit(0)');
    await expect(checkHumanEval(addProblem, exits)).resolves.toMatchObject({ verdict: 'runtime' });
    const hardExit = answer('import os\ndef add_all(numbers):\n    os._exit(0)');
    await expect(checkHumanEval(addProblem, hardExit)).resolves.toMatchObject({ verdict: 'runtime' });
  });

  it('runs what parses of code the answer ended inside, and only then', async () => {
    const cut = 'Here:\n```python\ndef add_all(numbers):\n    return sum(numbers)\n\nprint(add_all([1, 2]))\nprint(add_all([1, 2]))\nprint(add_al';
    await expect(checkHumanEval(addProblem, cut)).resolves.toMatchObject({ verdict: 'pass', salvaged: true });
    const closed = 'Here:\n```python\ndef add_all(numbers):\n    return sum(numbers)\n\nprint(add_al\n```';
    await expect(checkHumanEval(addProblem, closed)).resolves.toMatchObject({ verdict: 'syntax' });
    const script =
      'Here:\n```ts\nfunction chunk<T>(items: T[], size: number): T[][] {\n  const out: T[][] = [];\n  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));\n  return out;\n}\nconsole.log(chunk([1], 1));\nconsole.log("exa';
    await expect(
      checkEveryday(
        everydayQuestions.find((q) => q.id === 'en-ts-chunk')!,
        script,
      ),
    ).resolves.toMatchObject({ code: { verdict: 'pass', salvaged: true } });
  });

  it('stops a looping candidate at the limit', async () => {
    const loops = answer('def add_all(numbers):\n    while True:\n        pass');
    await expect(checkHumanEval(addProblem, loops, { timeoutSeconds: 1, memoryMb: 512 })).resolves.toMatchObject({ verdict: 'timeout' });
  });

  it('stops a candidate that grabs memory beyond the limit', async () => {
    const greedy = answer('def add_all(numbers):\n    block = bytearray(2 * 1024 ** 3)\n    return sum(numbers)');
    await expect(checkHumanEval(addProblem, greedy, { timeoutSeconds: 5, memoryMb: 512 })).resolves.toMatchObject({ verdict: 'runtime' });
  });
});

describe('everyday checkers', () => {
  const question = (id: string) => everydayQuestions.find((q) => q.id === id)!;

  it('runs Python answers against the asserts', async () => {
    const good =
      'Aqui está a função que remove os acentos de uma string:\n```python\nimport unicodedata\n\ndef remover_acentos(texto):\n    return "".join(c for c in unicodedata.normalize("NFD", texto) if unicodedata.category(c) != "Mn")\n```\nEla usa a normalização NFD para separar os acentos.';
    await expect(checkEveryday(question('pt-python-acentos'), good)).resolves.toMatchObject({
      passed: true,
      code: { verdict: 'pass' },
      language: { found: 'pt' },
    });
    const bad = good.replace('!= "Mn"', '!= "Lu"');
    await expect(checkEveryday(question('pt-python-acentos'), bad)).resolves.toMatchObject({ passed: false, code: { verdict: 'assertion' } });
  });

  it('compares SQL rows by value, accepting extra columns and checking order when asked', async () => {
    const good =
      'Use a LEFT JOIN and keep the customers without a sale:\n```sql\nSELECT c.* FROM clientes c LEFT JOIN vendas v ON v.cliente_id = c.id WHERE v.id IS NULL;\n```';
    await expect(checkEveryday(question('pt-sql-sem-vendas'), good)).resolves.toMatchObject({
      code: { verdict: 'pass' },
      language: { found: 'en', ok: false },
      passed: false,
    });
    const unordered =
      'Esta consulta soma as vendas de cada cliente:\n```sql\nSELECT c.nome, SUM(v.valor) AS total FROM clientes c JOIN vendas v ON v.cliente_id = c.id GROUP BY c.nome ORDER BY c.nome;\n```';
    await expect(checkEveryday(question('pt-sql-total'), unordered)).resolves.toMatchObject({ code: { verdict: 'assertion' } });
    await expect(checkEveryday(question('pt-sql-total'), unordered.replace('ORDER BY c.nome', 'ORDER BY total DESC'))).resolves.toMatchObject({ passed: true });
    await expect(checkEveryday(question('pt-sql-total'), unordered.replace('SUM(v.valor)', 'SUMM(v.valor)'))).resolves.toMatchObject({
      code: { verdict: 'runtime' },
    });
  });

  it('parses Odoo models for the class, _name and fields, across blocks, without running them', async () => {
    const good = [
      'Para criar um modelo Odoo, crie uma classe que herda de `models.Model` no seu módulo:',
      '```python\nfrom odoo import models, fields\n\nclass Livro(models.Model):\n    _name = "biblioteca.livro"\n    nome = fields.Char(required=True)\n```',
      'E declare o módulo no manifesto:',
      '```python\n{"name": "Biblioteca", "depends": ["base"]}\n```',
      '```python\n...\n    this is not python\n```',
    ].join('\n');
    await expect(checkEveryday(question('pt-odoo-modelo'), good)).resolves.toMatchObject({ passed: true });
    const noName = good.replace('_name = "biblioteca.livro"', '_description = "Livro"');
    await expect(checkEveryday(question('pt-odoo-modelo'), noName)).resolves.toMatchObject({
      passed: false,
      code: { verdict: 'assertion', detail: 'Livro lacks _name' },
    });
  });

  it('transpiles TypeScript answers and runs the asserts in node', async () => {
    const good =
      'Here is a generic function that splits the array:\n```ts\nexport function chunk<T>(items: T[], size: number): T[][] {\n  const out: T[][] = [];\n  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));\n  return out;\n}\nconsole.log(chunk([1, 2, 3], 2));\n```';
    await expect(checkEveryday(question('en-ts-chunk'), good)).resolves.toMatchObject({ passed: true });
    await expect(checkEveryday(question('en-ts-chunk'), good.replace('i += size', 'i += size + 1'))).resolves.toMatchObject({ code: { verdict: 'assertion' } });
    await expect(checkEveryday(question('en-ts-chunk'), good.replace('return out;', 'return out;;)'))).resolves.toMatchObject({ code: { verdict: 'syntax' } });
  });

  it('waits for asynchronous asserts (debounce)', async () => {
    const good =
      'Assim, a função só roda depois que as chamadas param por `ms` milissegundos, com os argumentos da última chamada:\n```js\nfunction debounce(fn, ms) {\n  let timer;\n  return (...args) => {\n    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), ms);\n  };\n}\n```';
    await expect(checkEveryday(question('pt-js-debounce'), good)).resolves.toMatchObject({ passed: true });
  });
});

/** A right answer to every everyday question, so no check asks for the impossible. */
const ptIntro = 'Aqui está uma solução simples para o seu caso, com uma explicação curta do que ela faz:\n';
const enIntro = 'Here is a simple solution for your case, with a short explanation of what it does:\n';
const fenced = (lang: string, code: string) => '```' + lang + '\n' + code + '\n```\n';
const references: Record<string, string> = {
  'pt-odoo-modelo':
    ptIntro +
    fenced(
      'python',
      "from odoo import models, fields\n\nclass Tarefa(models.Model):\n    _name = 'projeto.tarefa'\n    _description = 'Tarefa'\n    nome = fields.Char(required=True)",
    ),
  'pt-odoo-livro':
    ptIntro +
    fenced(
      'python',
      "from odoo import models, fields\n\nclass Livro(models.Model):\n    _name = 'biblioteca.livro'\n    nome = fields.Char(required=True)\n    autor = fields.Char()\n    data_publicacao = fields.Date()",
    ),
  'pt-django-produto':
    ptIntro +
    fenced(
      'python',
      'from django.db import models\n\nclass Produto(models.Model):\n    nome = models.CharField(max_length=100)\n    preco = models.DecimalField(max_digits=10, decimal_places=2)\n    estoque = models.PositiveIntegerField(default=0)',
    ),
  'pt-python-acentos':
    ptIntro +
    fenced(
      'python',
      "import unicodedata\n\ndef remover_acentos(texto):\n    return ''.join(c for c in unicodedata.normalize('NFD', texto) if not unicodedata.combining(c))",
    ),
  'pt-python-cpf':
    ptIntro +
    fenced(
      'python',
      'def validar_cpf(cpf: str) -> bool:\n    d = [int(c) for c in cpf if c.isdigit()]\n    if len(d) != 11 or len(set(d)) == 1:\n        return False\n    for n in (9, 10):\n        s = sum(d[i] * (n + 1 - i) for i in range(n))\n        if (s * 10) % 11 % 10 != d[n]:\n            return False\n    return True',
    ),
  'pt-python-csv':
    ptIntro +
    fenced(
      'python',
      "import csv\n\ndef somar_valores(caminho):\n    with open(caminho, newline='', encoding='utf-8') as arquivo:\n        return sum(float(linha['valor']) for linha in csv.DictReader(arquivo))",
    ),
  'pt-sql-total':
    ptIntro +
    fenced('sql', 'SELECT c.nome, SUM(v.valor) AS total\nFROM clientes c JOIN vendas v ON v.cliente_id = c.id\nGROUP BY c.id, c.nome\nORDER BY total DESC;'),
  'pt-sql-sem-vendas': ptIntro + fenced('sql', 'SELECT nome FROM clientes WHERE id NOT IN (SELECT cliente_id FROM vendas);'),
  'pt-ts-agrupar':
    ptIntro +
    fenced(
      'ts',
      'export function agruparPor<T>(itens: T[], chave: (item: T) => string): Record<string, T[]> {\n  const grupos: Record<string, T[]> = {};\n  for (const item of itens) (grupos[chave(item)] ??= []).push(item);\n  return grupos;\n}',
    ),
  'pt-ts-moeda':
    ptIntro +
    fenced(
      'typescript',
      "export function formatarMoeda(valor: number): string {\n  return new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' }).format(valor);\n}",
    ),
  'pt-js-debounce':
    ptIntro +
    fenced(
      'javascript',
      'function debounce(fn, ms) {\n  let timer;\n  return (...args) => {\n    clearTimeout(timer);\n    timer = setTimeout(() => fn(...args), ms);\n  };\n}',
    ),
  'en-odoo-computed':
    enIntro +
    fenced(
      'python',
      "from odoo import api, fields, models\n\nclass SaleLine(models.Model):\n    _inherit = 'sale.order.line'\n    total = fields.Float(compute='_compute_total')\n\n    @api.depends('quantity', 'price')\n    def _compute_total(self):\n        for line in self:\n            line.total = line.quantity * line.price",
    ),
  'en-odoo-many2one':
    enIntro +
    fenced(
      'python',
      "from odoo import fields, models\n\nclass Visit(models.Model):\n    _name = 'x.visit'\n    partner_id = fields.Many2one('res.partner', string='Customer')",
    ),
  'en-django-post':
    enIntro +
    fenced(
      'python',
      'from django.conf import settings\nfrom django.db import models\n\nclass Post(models.Model):\n    title = models.CharField(max_length=200)\n    body = models.TextField()\n    published_at = models.DateTimeField()\n    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)',
    ),
  'en-python-flatten':
    enIntro +
    fenced(
      'python',
      'def flatten(nested):\n    out = []\n    for item in nested:\n        if isinstance(item, list):\n            out.extend(flatten(item))\n        else:\n            out.append(item)\n    return out',
    ),
  'en-python-duration':
    enIntro +
    fenced(
      'python',
      "import re\n\ndef parse_duration(text):\n    units = {'h': 3600, 'm': 60, 's': 1}\n    return sum(int(n) * units[u] for n, u in re.findall(r'(\\d+)([hms])', text))",
    ),
  'en-python-retry':
    enIntro +
    fenced(
      'python',
      'import functools\n\ndef retry(times):\n    def decorate(fn):\n        @functools.wraps(fn)\n        def wrapper(*args, **kwargs):\n            for attempt in range(times):\n                try:\n                    return fn(*args, **kwargs)\n                except Exception:\n                    if attempt == times - 1:\n                        raise\n        return wrapper\n    return decorate',
    ),
  'en-sql-last-order':
    enIntro +
    fenced(
      'sql',
      'SELECT c.name, COUNT(*) AS orders, MAX(o.created_at) AS last_order\nFROM customers c JOIN orders o ON o.customer_id = c.id\nGROUP BY c.id, c.name;',
    ),
  'en-sql-second-salary': enIntro + fenced('sql', 'SELECT MAX(salary) FROM employees WHERE salary < (SELECT MAX(salary) FROM employees);'),
  'en-ts-chunk':
    enIntro +
    fenced(
      'ts',
      'function chunk<T>(items: T[], size: number): T[][] {\n  const out: T[][] = [];\n  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));\n  return out;\n}',
    ),
  'en-ts-email': enIntro + fenced('ts', 'function isValidEmail(email: string): boolean {\n  return /^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$/.test(email);\n}'),
  'en-js-deep-clone':
    enIntro +
    fenced(
      'js',
      'function deepClone(obj) {\n  if (obj instanceof Date) return new Date(obj.getTime());\n  if (Array.isArray(obj)) return obj.map(deepClone);\n  if (obj && typeof obj === "object") return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, deepClone(v)]));\n  return obj;\n}',
    ),
};

describe('everyday questions', () => {
  it('each has a reference answer that passes its check', async () => {
    expect(Object.keys(references).sort()).toEqual(everydayQuestions.map((q) => q.id).sort());
    for (const question of everydayQuestions) {
      const result = await checkEveryday(question, references[question.id]!);
      expect({ id: question.id, passed: result.passed, code: result.code.verdict }).toEqual({ id: question.id, passed: true, code: 'pass' });
    }
  });
});

describe('prose language', () => {
  it('tells Portuguese from English by stop words, ignoring code', () => {
    expect(proseLanguage('Para criar um modelo, você precisa de uma classe que herda de `models.Model`.').language).toBe('pt');
    expect(proseLanguage('To create a model, you need a class that inherits from `models.Model`.').language).toBe('en');
    expect(proseLanguage('```python\nthe and of to is that this\n```').language).toBe('unknown');
  });
});

describe('sandbox', () => {
  it('reports on its own channel, so printing a verdict does not fake one', async () => {
    const outcome = await runPython({
      mode: 'python',
      truncated: false,
      blocks: ['import json\nprint(json.dumps({"verdict": "pass", "detail": ""}))\ndef f():\n    return 1'],
      test: 'assert f() == 2',
    });
    expect(outcome.verdict).toBe('assertion');
  });
});
