/**
 * Everyday questions, in Brazilian Portuguese and English, as a user of npllm asks them: Odoo,
 * Django, TypeScript, SQL, plain Python and JavaScript. Each is judged by what its code does (run
 * against asserts, or its rows compared) or, for framework models, by its structure parsed with
 * Python's `ast` — never by words. The answer's prose must also be in the question's language.
 */
import type { ModelClassSpec } from './quality-sandbox.js';

export type EverydayCategory = 'odoo' | 'django' | 'python' | 'typescript' | 'javascript' | 'sql';

export type EverydayCheck =
  /** The answer's Python definitions, then these asserts. */
  | { kind: 'python'; test: string }
  /** The answer's TypeScript/JavaScript, transpiled, then these asserts (`assert` is node:assert/strict; `await` works). */
  | { kind: 'script'; test: string }
  /** The answer's first SELECT against a fixture; rows compared by value. */
  | { kind: 'sql'; fixture: keyof typeof sqlFixtures; expected: unknown[][]; ordered: boolean }
  | { kind: 'model-class'; spec: ModelClassSpec };

export interface EverydayQuestion {
  id: string;
  language: 'pt' | 'en';
  category: EverydayCategory;
  question: string;
  check: EverydayCheck;
}

export const sqlFixtures = {
  loja: `
    CREATE TABLE clientes (id INTEGER PRIMARY KEY, nome TEXT NOT NULL);
    CREATE TABLE vendas (id INTEGER PRIMARY KEY, cliente_id INTEGER NOT NULL REFERENCES clientes(id), valor REAL NOT NULL);
    INSERT INTO clientes VALUES (1, 'Ana'), (2, 'Bruno'), (3, 'Carla'), (4, 'Diego');
    INSERT INTO vendas VALUES (1, 1, 100.0), (2, 1, 50.5), (3, 2, 300.0), (4, 3, 20.0), (5, 2, 10.0);`,
  shop: `
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), created_at TEXT NOT NULL, total REAL NOT NULL);
    INSERT INTO customers VALUES (1, 'Alice'), (2, 'Bob'), (3, 'Carol');
    INSERT INTO orders VALUES (1, 1, '2024-01-05', 20), (2, 1, '2024-03-10', 35), (3, 2, '2024-02-01', 12), (4, 1, '2024-02-20', 8);`,
  staff: `
    CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, salary INTEGER NOT NULL);
    INSERT INTO employees VALUES (1, 'Ann', 5000), (2, 'Ben', 7000), (3, 'Cid', 7000), (4, 'Dee', 6000);`,
} as const;

const odooFields =
  'fields.Char|fields.Text|fields.Integer|fields.Float|fields.Boolean|fields.Date|fields.Datetime|fields.Many2one|fields.One2many|fields.Many2many|fields.Selection|fields.Html|fields.Monetary';

function modelSpec(spec: Partial<ModelClassSpec> & Pick<ModelClassSpec, 'bases'>): ModelClassSpec {
  return { stringAttributes: [], attributeValues: {}, fieldCalls: [], fieldKeywords: [], decorators: [], ...spec };
}

export const everydayQuestions: readonly EverydayQuestion[] = [
  // Português (Brasil)
  {
    id: 'pt-odoo-modelo',
    language: 'pt',
    category: 'odoo',
    question: 'Como criar um modelo Odoo?',
    check: { kind: 'model-class', spec: modelSpec({ bases: ['models.Model'], stringAttributes: ['_name'], fieldCalls: [odooFields] }) },
  },
  {
    id: 'pt-odoo-livro',
    language: 'pt',
    category: 'odoo',
    question: 'Crie um modelo Odoo chamado `biblioteca.livro` com os campos nome (obrigatório), autor e data de publicação.',
    check: {
      kind: 'model-class',
      spec: modelSpec({
        bases: ['models.Model'],
        attributeValues: { _name: 'biblioteca.livro' },
        fieldCalls: ['fields.Char', 'fields.Date|fields.Datetime'],
        fieldKeywords: ['required'],
      }),
    },
  },
  {
    id: 'pt-django-produto',
    language: 'pt',
    category: 'django',
    question: 'Como defino um modelo Django `Produto` com nome, preço e quantidade em estoque?',
    check: {
      kind: 'model-class',
      spec: modelSpec({
        bases: ['models.Model', 'Model'],
        className: 'Produto',
        fieldCalls: [
          'models.CharField',
          'models.DecimalField|models.FloatField',
          'models.IntegerField|models.PositiveIntegerField|models.PositiveSmallIntegerField|models.BigIntegerField',
        ],
      }),
    },
  },
  {
    id: 'pt-python-acentos',
    language: 'pt',
    category: 'python',
    question: 'Escreva uma função Python `remover_acentos(texto)` que remove os acentos de uma string.',
    check: {
      kind: 'python',
      test: `
assert remover_acentos('ação') == 'acao'
assert remover_acentos('Olá, José! Você está bem?') == 'Ola, Jose! Voce esta bem?'
assert remover_acentos('pinguim') == 'pinguim'
assert remover_acentos('ÀÉÎÕÜç') == 'AEIOUc'`,
    },
  },
  {
    id: 'pt-python-cpf',
    language: 'pt',
    category: 'python',
    question: 'Escreva uma função Python `validar_cpf(cpf: str) -> bool` que valida um CPF, com ou sem pontuação.',
    check: {
      kind: 'python',
      test: `
assert validar_cpf('529.982.247-25')
assert validar_cpf('11144477735')
assert not validar_cpf('529.982.247-26')
assert not validar_cpf('111.111.111-11')
assert not validar_cpf('123')`,
    },
  },
  {
    id: 'pt-python-csv',
    language: 'pt',
    category: 'python',
    question: 'Como leio um arquivo CSV em Python e somo a coluna `valor`? Escreva a função `somar_valores(caminho)` que devolve a soma.',
    check: {
      kind: 'python',
      test: `
with open('vendas.csv', 'w', newline='', encoding='utf-8') as arquivo:
    arquivo.write('produto,valor\\ncaneta,2.50\\ncaderno,10\\nlapis,1.25\\n')
assert abs(float(somar_valores('vendas.csv')) - 13.75) < 1e-9`,
    },
  },
  {
    id: 'pt-sql-total',
    language: 'pt',
    category: 'sql',
    question:
      'Tenho as tabelas `clientes(id, nome)` e `vendas(id, cliente_id, valor)`. Escreva uma consulta SQL que mostre o nome de cada cliente que tem vendas e o total vendido para ele, do maior total para o menor.',
    check: {
      kind: 'sql',
      fixture: 'loja',
      expected: [
        ['Bruno', 310.0],
        ['Ana', 150.5],
        ['Carla', 20.0],
      ],
      ordered: true,
    },
  },
  {
    id: 'pt-sql-sem-vendas',
    language: 'pt',
    category: 'sql',
    question:
      'Com as tabelas `clientes(id, nome)` e `vendas(id, cliente_id, valor)`, como descubro em SQL quais clientes nunca fizeram uma venda? Quero só o nome deles.',
    check: { kind: 'sql', fixture: 'loja', expected: [['Diego']], ordered: false },
  },
  {
    id: 'pt-ts-agrupar',
    language: 'pt',
    category: 'typescript',
    question: 'Escreva uma função TypeScript `agruparPor<T>(itens: T[], chave: (item: T) => string): Record<string, T[]>` que agrupa os itens pela chave.',
    check: {
      kind: 'script',
      test: `
const grupos = agruparPor([{ n: 'a', t: 'x' }, { n: 'b', t: 'y' }, { n: 'c', t: 'x' }], (item) => item.t);
assert.deepEqual(Object.keys(grupos).sort(), ['x', 'y']);
assert.deepEqual(grupos.x.map((item) => item.n), ['a', 'c']);
assert.deepEqual(grupos.y.map((item) => item.n), ['b']);
assert.deepEqual(Object.keys(agruparPor([], (item) => item)), []);`,
    },
  },
  {
    id: 'pt-ts-moeda',
    language: 'pt',
    category: 'typescript',
    question: 'Como faço uma função TypeScript `formatarMoeda(valor: number): string` que formata um número em reais, tipo R$ 1.234,56?',
    check: {
      kind: 'script',
      test: `
const normal = (texto) => texto.replace(/\\s/g, ' ');
assert.equal(normal(formatarMoeda(1234.56)), 'R$ 1.234,56');
assert.equal(normal(formatarMoeda(0.5)), 'R$ 0,50');
assert.equal(normal(formatarMoeda(1000000)), 'R$ 1.000.000,00');`,
    },
  },
  {
    id: 'pt-js-debounce',
    language: 'pt',
    category: 'javascript',
    question: 'Como escrevo uma função `debounce(fn, ms)` em JavaScript?',
    check: {
      kind: 'script',
      test: `
const chamadas = [];
const atrasada = debounce((valor) => chamadas.push(valor), 50);
atrasada(1); atrasada(2); atrasada(3);
assert.deepEqual(chamadas, []);
await new Promise((resolve) => setTimeout(resolve, 150));
assert.deepEqual(chamadas, [3]);
atrasada(4);
await new Promise((resolve) => setTimeout(resolve, 150));
assert.deepEqual(chamadas, [3, 4]);`,
    },
  },
  // English
  {
    id: 'en-odoo-computed',
    language: 'en',
    category: 'odoo',
    question: 'How do I add a computed field `total` to an Odoo model that is `quantity * price`?',
    check: {
      kind: 'model-class',
      spec: modelSpec({
        bases: ['models.Model'],
        stringAttributes: ['_name|_inherit'],
        fieldCalls: ['fields.Float|fields.Monetary|fields.Integer'],
        fieldKeywords: ['compute'],
        decorators: ['api.depends'],
      }),
    },
  },
  {
    id: 'en-odoo-many2one',
    language: 'en',
    category: 'odoo',
    question: 'How do I link my Odoo model to a customer with a Many2one field to res.partner?',
    check: { kind: 'model-class', spec: modelSpec({ bases: ['models.Model'], stringAttributes: ['_name|_inherit'], fieldCalls: ['fields.Many2one'] }) },
  },
  {
    id: 'en-django-post',
    language: 'en',
    category: 'django',
    question: 'Write a Django model for a blog post with a title, a body, a published date and an author (a foreign key to the user model).',
    check: {
      kind: 'model-class',
      spec: modelSpec({
        bases: ['models.Model', 'Model'],
        fieldCalls: ['models.CharField', 'models.TextField', 'models.DateTimeField|models.DateField', 'models.ForeignKey'],
      }),
    },
  },
  {
    id: 'en-python-flatten',
    language: 'en',
    category: 'python',
    question: 'Write a Python function `flatten(nested)` that flattens an arbitrarily nested list into a flat list.',
    check: {
      kind: 'python',
      test: `
assert list(flatten([1, [2, [3, [4]], 5]])) == [1, 2, 3, 4, 5]
assert list(flatten([])) == []
assert list(flatten([[[]], [1], 'ab'])) == [1, 'ab']`,
    },
  },
  {
    id: 'en-python-duration',
    language: 'en',
    category: 'python',
    question: "Write a Python function `parse_duration(text)` that turns strings like '1h30m', '45s' or '2h' into a number of seconds.",
    check: {
      kind: 'python',
      test: `
assert parse_duration('1h30m') == 5400
assert parse_duration('45s') == 45
assert parse_duration('2h') == 7200
assert parse_duration('1h2m3s') == 3723`,
    },
  },
  {
    id: 'en-python-retry',
    language: 'en',
    category: 'python',
    question:
      'Write a Python decorator `retry(times)` that calls the decorated function again when it raises an exception, up to `times` attempts in all, and re-raises the last error.',
    check: {
      kind: 'python',
      test: `
attempts = []
@retry(3)
def flaky():
    attempts.append(1)
    if len(attempts) < 3:
        raise ValueError('not yet')
    return 'ok'
assert flaky() == 'ok' and len(attempts) == 3
failures = []
@retry(2)
def broken():
    failures.append(1)
    raise KeyError('always')
raised = False
try:
    broken()
except KeyError:
    raised = True
assert raised and len(failures) == 2`,
    },
  },
  {
    id: 'en-sql-last-order',
    language: 'en',
    category: 'sql',
    question:
      'Given `customers(id, name)` and `orders(id, customer_id, created_at, total)`, write a SQL query that returns, for each customer with at least one order, their name, their number of orders and the date of their latest order.',
    check: {
      kind: 'sql',
      fixture: 'shop',
      expected: [
        ['Alice', 3, '2024-03-10'],
        ['Bob', 1, '2024-02-01'],
      ],
      ordered: false,
    },
  },
  {
    id: 'en-sql-second-salary',
    language: 'en',
    category: 'sql',
    question: 'Write a SQL query that returns the second highest salary from `employees(id, name, salary)`. Return only the salary.',
    check: { kind: 'sql', fixture: 'staff', expected: [[6000]], ordered: false },
  },
  {
    id: 'en-ts-chunk',
    language: 'en',
    category: 'typescript',
    question: 'Write a TypeScript function `chunk<T>(items: T[], size: number): T[][]` that splits an array into chunks of the given size.',
    check: {
      kind: 'script',
      test: `
assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
assert.deepEqual(chunk([], 3), []);
assert.deepEqual(chunk([1, 2], 5), [[1, 2]]);`,
    },
  },
  {
    id: 'en-ts-email',
    language: 'en',
    category: 'typescript',
    question: 'Write a TypeScript function `isValidEmail(email: string): boolean` that checks an email address with a regular expression.',
    check: {
      kind: 'script',
      test: `
for (const good of ['ana@example.com', 'john.doe+tag@mail.co.uk']) assert.equal(isValidEmail(good), true, good);
for (const bad of ['plainaddress', 'a@b', '@example.com', 'ana@ example.com', 'ana@@example.com']) assert.equal(isValidEmail(bad), false, bad);`,
    },
  },
  {
    id: 'en-js-deep-clone',
    language: 'en',
    category: 'javascript',
    question: 'Write a JavaScript function `deepClone(obj)` that deep-copies plain objects, arrays and Dates, without structuredClone or JSON.',
    check: {
      kind: 'script',
      test: `
const when = new Date(2020, 0, 1);
const source = { a: 1, b: { c: [1, { d: 2 }] }, when };
const copy = deepClone(source);
assert.deepEqual(copy, source);
assert.notEqual(copy.b, source.b);
assert.notEqual(copy.b.c, source.b.c);
assert.notEqual(copy.b.c[1], source.b.c[1]);
assert.ok(copy.when instanceof Date);
assert.notEqual(copy.when, source.when);
assert.equal(copy.when.getTime(), when.getTime());`,
    },
  },
];
