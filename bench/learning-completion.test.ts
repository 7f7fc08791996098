import { describe, expect, it } from 'vitest';
import { cutBody, editSimilarity, exactMatch, pickFunctions, pythonFunctions, type HeldOutFunction } from './learning-completion.js';

const source = [
  'from odoo import fields, models',
  '',
  '',
  'class Mode(models.Model):',
  '    _name = "account.payment.mode"',
  '',
  '    def _compute_name(self):',
  '        """Name from the method and the bank."""',
  '        for mode in self:',
  '            mode.name = mode.method_id.name',
  '',
  '    def action(',
  '        self, values=None',
  '    ):',
  "        '''Several lines",
  "        of docstring.'''",
  '        values = values or {}',
  '        return self.write(values)',
  '',
  '    def too_long(self):',
  ...Array.from({ length: 20 }, (_, index) => `        x${index} = ${index}`),
  '',
  '    def nested(self):',
  '        def inner():',
  '            return 1',
  '        return inner()',
  '',
  '    @api.model',
  '    def short(self):  # a comment: with a colon',
  '        return True',
  '',
].join('\n');
const options = { contextChars: 61, minBodyLines: 1, maxBodyLines: 12, maxBodyChars: 400 };

describe('pythonFunctions', () => {
  const found = pythonFunctions('models/mode.py', source, options);

  it('finds functions with their signature, docstring and body; leaves out long bodies and bodies that define functions', () => {
    expect(found.map((fn) => [fn.name, fn.line, fn.hasDocstring, fn.indent])).toEqual([
      ['_compute_name', 7, true, 4],
      ['action', 12, true, 4],
      ['inner', 43, false, 8],
      ['short', 48, false, 4],
    ]);
    expect(found[0]!.body).toBe('        for mode in self:\n            mode.name = mode.method_id.name');
    expect(found[1]!.body).toBe('        values = values or {}\n        return self.write(values)');
    expect(found[3]!.body).toBe('        return True');
  });

  it('prompts with the preceding lines (cut at a line start to the context budget), the signature and the docstring', () => {
    expect(found[0]!.prompt).toBe(
      'class Mode(models.Model):\n    _name = "account.payment.mode"\n\n    def _compute_name(self):\n        """Name from the method and the bank."""\n',
    );
    expect(found[1]!.prompt.endsWith("    def action(\n        self, values=None\n    ):\n        '''Several lines\n        of docstring.'''\n")).toBe(true);
    for (const fn of found) expect(fn.prompt.indexOf(fn.body)).toBe(-1);
  });
});

describe('pickFunctions', () => {
  const fn = (file: string, name: string) => ({ file, name }) as HeldOutFunction;
  const all = [fn('a.py', 'a1'), fn('a.py', 'a2'), fn('a.py', 'a3'), fn('b.py', 'b1'), fn('c.py', 'c1'), fn('c.py', 'c2')];

  it('takes one function per file in turn, the same for a seed', () => {
    const picked = pickFunctions(all, 4, 1);
    expect(picked).toHaveLength(4);
    expect(picked.slice(0, 3).map((item) => item.file)).toEqual(['a.py', 'b.py', 'c.py']);
    expect(pickFunctions(all, 4, 1)).toEqual(picked);
    expect(pickFunctions(all, 100, 1)).toHaveLength(6);
  });
});

describe('cutBody, editSimilarity, exactMatch', () => {
  it('cuts the generation where the function ends', () => {
    expect(cutBody('        return True\n\n    def other(self):\n        pass', 4)).toBe('        return True');
    expect(cutBody('        a = 1\n        return a\n', 4)).toBe('        a = 1\n        return a');
    expect(cutBody('    def other(self):', 4)).toBe('');
  });

  it('scores 1 for the same code up to layout, less with each edit, 0 against nothing', () => {
    expect(editSimilarity('  return x  \n\n', '  return x')).toBe(1);
    expect(editSimilarity('return y', 'return x')).toBeCloseTo(1 - 1 / 8, 12);
    expect(editSimilarity('', 'return x')).toBe(0);
    expect(editSimilarity('', '')).toBe(1);
    expect(exactMatch('  return  x\n', '  return x')).toBe(true);
    expect(exactMatch('return y', 'return x')).toBe(false);
  });
});
