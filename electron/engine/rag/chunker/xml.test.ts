import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from './index.js';

const saleViews = `<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <data>
        <!-- Form: adds the weight next to the customer. -->
        <record id="view_order_form_weight" model="ir.ui.view">
            <field name="name">sale.order.form.weight</field>
            <field name="model">sale.order</field>
            <field name="inherit_id" ref="sale.view_order_form"/>
            <field name="arch" type="xml">
                <field name="partner_id" position="after">
                    <field name="weight"/>
                </field>
            </field>
        </record>

        <record id="action_heavy_orders" model="ir.actions.act_window">
            <field name="name">Heavy orders</field>
            <field name="res_model">sale.order</field>
            <field name="domain">[('weight', '&gt;', 1000)]</field>
        </record>
    </data>

    <menuitem id="menu_heavy_orders" action="action_heavy_orders" parent="sale.sale_menu_root"/>

    <template id="report_weight">
        <t t-call="web.html_container">
            <span t-field="doc.weight"/>
        </t>
    </template>
    <function model="sale.order" name="_recompute_weights"/>
</odoo>
`;

describe('XML chunks', () => {
  let chunker: Chunker;
  beforeAll(async () => {
    chunker = await createChunker();
  });
  afterAll(() => chunker.dispose());

  it('makes one chunk per record and top-level element of an Odoo data file, named by id or tag', () => {
    const chunks = chunker.chunk({ relativePath: 'addons/sale_weight/views/sale_order_views.xml', content: saleViews });
    expect(chunks.map((chunk) => [chunk.kind, chunk.symbol, chunk.startLine, chunk.endLine, chunk.language])).toEqual([
      ['element', 'view_order_form_weight', 4, 14, 'xml'],
      ['element', 'action_heavy_orders', 16, 20, 'xml'],
      ['element', 'menu_heavy_orders', 23, 23, 'xml'],
      ['element', 'report_weight', 25, 29, 'xml'],
      ['element', 'function', 30, 30, 'xml'],
    ]);
    expect(chunks[0]?.content.split('\n').slice(0, 2)).toEqual([
      '        <!-- Form: adds the weight next to the customer. -->',
      '        <record id="view_order_form_weight" model="ir.ui.view">',
    ]);
    expect(chunks[1]?.content).toBe(saleViews.split('\n').slice(15, 20).join('\n'));
  });

  it('cuts any other XML at the children of its root element', () => {
    const pom =
      '<project>\n  <modelVersion>4.0.0</modelVersion>\n  <dependencies>\n    <dependency><artifactId>junit</artifactId></dependency>\n  </dependencies>\n</project>\n';
    expect(chunker.chunk({ relativePath: 'pom.xml', content: pom }).map((chunk) => [chunk.symbol, chunk.startLine, chunk.endLine])).toEqual([
      ['modelVersion', 2, 2],
      ['dependencies', 3, 5],
    ]);
  });

  it('keeps the well-formed records of a broken file and the broken one as a window', () => {
    const content =
      '<odoo>\n  <record id="a" model="x">\n    <field name="n">v</field>\n  </record>\n  <record id="b" model="x">\n    <field name="n">v\n  </record>\n  <record id="c" model="x"/>\n</odoo>\n';
    const chunks = chunker.chunk({ relativePath: 'broken.xml', content });
    expect(chunks.filter((chunk) => chunk.kind === 'element').map((chunk) => chunk.symbol)).toEqual(['a', 'c']);
    expect(chunks.find((chunk) => chunk.kind === 'window' && chunk.content.includes('id="b"'))).toBeDefined();
  });
});
