import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from './index.js';

const cartTs = `import { z } from 'zod';
import type { Item } from './item.js';
export { formatPrice } from './format.js';
export const cartSchema = z.object({ items: z.array(z.string()) });

/** Total price of the items, in cents. */
export const total = (items: Item[]): number => items.reduce((sum, item) => sum + item.price, 0);

// Rounds half away from zero, as the tax office does.
export function round(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

export interface CartLine {
  item: Item;
  quantity: number;
}

/**
 * A shopping cart that keeps its lines sorted.
 */
@Injectable()
export class Cart {
  private readonly lines: CartLine[] = [];

  constructor(private readonly currency: string) {}

  /** Adds a line, merging with an existing one. */
  add(line: CartLine): void {
    this.lines.push(line);
  }

  @Memoize()
  get size(): number {
    return this.lines.length;
  }

  readonly clear = (): void => {
    this.lines.length = 0;
  };
}

export default async function checkout(cart: Cart): Promise<void> {
  await cart.pay();
}
`;

const buttonTsx = `import React, { forwardRef } from 'react';

type Props = { label: string; onPress(): void };

/** The app's one button style. */
export const Button = forwardRef<HTMLButtonElement, Props>(({ label, onPress }, ref) => (
  <button ref={ref} className="btn" onClick={onPress}>
    {label}
  </button>
));

export default function App() {
  return <Button label="Go" onPress={() => undefined} />;
}
`;

const legacyJs = `'use strict';
const path = require('path');

function resolveRoot(dir) {
  return path.resolve(dir);
}

module.exports = function main(argv) {
  return resolveRoot(argv[0]);
};

module.exports.helper = async () => 42;

export default () => 'anonymous';

class Queue {
  push(job) {
    this.jobs.push(job);
  }
}
`;

describe('JavaScript and TypeScript chunks', () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await createChunker();
  });
  afterAll(() => chunker.dispose());

  it('cuts a TypeScript module into exported functions, an interface, a decorated class and its methods', () => {
    const chunks = chunker.chunk({ relativePath: 'src/cart.ts', content: cartTs });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine])).toEqual([
      ['window', null, 4, 4],
      ['function', 'total', 6, 7],
      ['function', 'round', 9, 12],
      ['class', 'CartLine', 14, 17],
      ['class', 'Cart', 19, 24],
      ['method', 'Cart.constructor', 26, 26],
      ['method', 'Cart.add', 28, 31],
      ['method', 'Cart.size', 33, 36],
      ['method', 'Cart.clear', 38, 40],
      ['function', 'checkout', 43, 45],
    ]);
    expect(chunks.every((chunk) => chunk.language === 'typescript')).toBe(true);
    const byStart = new Map(chunks.map((chunk) => [chunk.startLine, chunk.content]));
    expect(byStart.get(6)).toBe(
      '/** Total price of the items, in cents. */\nexport const total = (items: Item[]): number => items.reduce((sum, item) => sum + item.price, 0);',
    );
    expect(byStart.get(19)).toBe(`/**
 * A shopping cart that keeps its lines sorted.
 */
@Injectable()
export class Cart {
  private readonly lines: CartLine[] = [];`);
    expect(byStart.get(33)).toBe('  @Memoize()\n  get size(): number {\n    return this.lines.length;\n  }');
  });

  it('names a React component wrapped in forwardRef and the default-exported App in TSX', () => {
    const chunks = chunker.chunk({ relativePath: 'renderer/Button.tsx', content: buttonTsx });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['window', null, 3, 3, 'tsx'],
      ['function', 'Button', 5, 10, 'tsx'],
      ['function', 'App', 12, 14, 'tsx'],
    ]);
    expect(chunks[1]?.content).toContain('<button ref={ref} className="btn" onClick={onPress}>');
  });

  it('finds CommonJS exports, anonymous default exports and classes in plain JavaScript', () => {
    const chunks = chunker.chunk({ relativePath: 'lib/index.cjs', content: legacyJs });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['function', 'resolveRoot', 4, 6, 'javascript'],
      ['function', 'module.exports', 8, 10, 'javascript'],
      ['function', 'module.exports.helper', 12, 12, 'javascript'],
      ['function', 'default', 14, 14, 'javascript'],
      ['class', 'Queue', 16, 16, 'javascript'],
      ['method', 'Queue.push', 17, 19, 'javascript'],
    ]);
  });

  it('still finds the valid definitions around a syntax error', () => {
    const content =
      'export function ok1() { return 1; }\nfunction broken( { return 2;\nexport class K {\n  m() { return 3; }\n}\nexport const ok2 = () => 4;\n';
    const symbols = chunker.chunk({ relativePath: 'broken.ts', content }).map((chunk) => chunk.symbol);
    expect(symbols).toEqual(expect.arrayContaining(['ok1', 'K', 'K.m', 'ok2']));
  });
});
