import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from './index.js';

const saleOrder = `# -*- coding: utf-8 -*-
"""Sale order extensions for the warehouse."""
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class SaleOrder(models.Model):
    """A sale order that knows its delivery weight."""

    _inherit = 'sale.order'
    _order = 'date_order desc'

    weight = fields.Float(compute='_compute_weight', store=True)
    carrier_id = fields.Many2one('delivery.carrier')

    @api.depends('order_line.product_id', 'order_line.product_uom_qty')
    def _compute_weight(self):
        """Sum of the lines' weights, in kg."""
        for order in self:
            order.weight = sum(line.product_id.weight * line.product_uom_qty for line in order.order_line)

    # Called from the button on the form view.
    def action_check_weight(self):
        if self.weight > 1000:
            raise UserError('Too heavy')
        return True

    state_note = fields.Char()

    class Meta:
        """Options read by the report."""

        def label(self):
            return 'Sale'


@api.model
async def refresh_rates(env):
    """Fetch the carriers' rates."""
    await env['delivery.carrier'].refresh()


def helper(x):
    def inner(y):
        return y * 2

    return inner(x)
`;

describe('python chunks', () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await createChunker();
  });
  afterAll(() => chunker.dispose());

  it('cuts an Odoo model into its header, methods with decorators and docstrings, nested class and functions', () => {
    const chunks = chunker.chunk({ relativePath: 'addons/sale_weight/models/sale_order.py', content: saleOrder });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine])).toEqual([
      ['window', null, 1, 8],
      ['class', 'SaleOrder', 11, 18],
      ['method', 'SaleOrder._compute_weight', 20, 24],
      ['method', 'SaleOrder.action_check_weight', 26, 30],
      ['class', 'SaleOrder', 32, 32],
      ['class', 'SaleOrder.Meta', 34, 35],
      ['method', 'SaleOrder.Meta.label', 37, 38],
      ['function', 'refresh_rates', 41, 44],
      ['function', 'helper', 47, 51],
    ]);
    expect(chunks.every((chunk) => chunk.language === 'python' && chunk.relativePath === 'addons/sale_weight/models/sale_order.py')).toBe(true);
    const [, header, compute, action] = chunks;
    expect(header?.content).toBe(`class SaleOrder(models.Model):
    """A sale order that knows its delivery weight."""

    _inherit = 'sale.order'
    _order = 'date_order desc'

    weight = fields.Float(compute='_compute_weight', store=True)
    carrier_id = fields.Many2one('delivery.carrier')`);
    expect(compute?.content).toMatch(
      /^ {4}@api\.depends\('order_line\.product_id', 'order_line\.product_uom_qty'\)\n {4}def _compute_weight\(self\):\n {8}"""Sum of the lines' weights, in kg."""/,
    );
    expect(action?.content.split('\n')[0]).toBe('    # Called from the button on the form view.');
    expect(chunks.at(-2)?.content).toBe(`@api.model
async def refresh_rates(env):
    """Fetch the carriers' rates."""
    await env['delivery.carrier'].refresh()`);
  });

  it('keeps module-level statements as windows but drops runs of imports alone', () => {
    const chunks = chunker.chunk({ relativePath: 'a.py', content: 'import os\nfrom sys import path\n\n\ndef f():\n    return os\n\n\nCONSTANT = f()\n' });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.content])).toEqual([
      ['function', 'f', 5, 6, 'def f():\n    return os'],
      ['window', null, 9, 9, 'CONSTANT = f()'],
    ]);
  });

  it('still finds the valid definitions around a syntax error', () => {
    const content =
      'def good_one(a):\n    return a\n\ndef broken(:\n    return (1,\n\nclass Fine:\n    def m(self):\n        return 1\n\ndef good_two():\n    pass\n';
    const symbols = chunker.chunk({ relativePath: 'broken.py', content }).map((chunk) => chunk.symbol);
    expect(symbols).toEqual(expect.arrayContaining(['good_one', 'Fine', 'Fine.m', 'good_two']));
  });
});
