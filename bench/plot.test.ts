import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { escapeXml, heatmapSvg, lineChartSvg, niceTicks, savePng, type Heatmap, type LineChart } from './plot.js';

/**
 * No XML parser among the declared dependencies, so a strict tokenizer: one root, balanced tags,
 * quoted and unique attributes, no raw `<` or bare `&` anywhere. Enough for what the module emits.
 */
function assertWellFormed(xml: string): void {
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi;
  const checkText = (raw: string, where: number): void => {
    if (raw.replace(entity, '').includes('&')) throw new Error(`bare & near offset ${where}: ${raw.slice(0, 60)}`);
  };
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/g;
  const stack: string[] = [];
  let roots = 0;
  for (const match of xml.matchAll(token)) {
    const [, closing, name, attributes = '', selfClosing, content, strayLt] = match;
    if (strayLt) throw new Error(`stray < at offset ${match.index}: ${xml.slice(match.index, match.index + 60)}`);
    if (content !== undefined) {
      if (stack.length === 0 && content.trim()) throw new Error(`text outside the root: ${content.slice(0, 60)}`);
      checkText(content, match.index);
      continue;
    }
    if (name === undefined) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at offset ${match.index}`);
      continue;
    }
    const seen = new Set<string>();
    for (const attribute of attributes.matchAll(/([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')/g)) {
      const [, key = '', value = ''] = attribute;
      if (seen.has(key)) throw new Error(`duplicate attribute ${key} on <${name}>`);
      seen.add(key);
      checkText(value, match.index);
    }
    if (stack.length === 0) roots++;
    if (!selfClosing) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function attribute(element: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(element)?.[1];
}

describe('niceTicks', () => {
  it('picks about five round ticks that cover the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 73)).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(0.1, 0.3)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3]);
    expect(niceTicks(-7, 12)).toEqual([-10, -5, 0, 5, 10, 15]);
    expect(niceTicks(0, 2_000_000)).toEqual([0, 500_000, 1_000_000, 1_500_000, 2_000_000]);
  });

  it('opens up a range of one value and survives non-finite bounds', () => {
    const ticks = niceTicks(5, 5);
    expect(ticks[0]).toBeLessThan(5);
    expect(ticks[ticks.length - 1]).toBeGreaterThan(5);
    expect(niceTicks(0, 0).length).toBeGreaterThan(2);
    expect(niceTicks(Number.NaN, 3)).toEqual([0, 1]);
  });
});

describe('escapeXml', () => {
  it('escapes markup and drops characters XML cannot hold', () => {
    expect(escapeXml(`a < b & "c" > 'd'`)).toBe('a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;');
    expect(escapeXml('bell\u0007\ttab')).toBe('bell\ttab');
  });
});

describe('lineChartSvg', () => {
  const chart: LineChart = {
    title: 'Latency <p95> & "friends"',
    xLabel: 'prompt tokens',
    yLabel: 'ms',
    series: [
      {
        name: 'bare llama.cpp',
        points: [
          { x: 0, y: 10 },
          { x: 100, y: 40 },
          { x: 200, y: 73 },
        ],
      },
      {
        name: 'engine <cached>',
        points: [
          { x: 0, y: 12 },
          { x: 100, y: Number.NaN },
          { x: 150, y: 50 },
          { x: 200, y: 60 },
          { x: Number.POSITIVE_INFINITY, y: 1e9 },
        ],
      },
    ],
  };
  const svg = lineChartSvg(chart);

  it('is well-formed SVG of the asked size', () => {
    assertWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400"')).toBe(true);
    expect(lineChartSvg(chart, { width: 300, height: 200 })).toContain('width="300" height="200"');
  });

  it('names the series and the axes, escaped', () => {
    expect(svg).toContain('>bare llama.cpp</text>');
    expect(svg).toContain('>engine &lt;cached&gt;</text>');
    expect(svg).toContain('>Latency &lt;p95&gt; &amp; &quot;friends&quot;</text>');
    expect(svg).toContain('>prompt tokens</text>');
    expect(svg).toContain('>ms</text>');
    expect(svg).not.toContain('<cached>');
  });

  it('labels round ticks on both axes', () => {
    for (const tick of ['0', '50', '100', '150', '200']) expect(svg).toContain(`>${tick}</text>`);
    for (const tick of ['20', '40', '60', '80']) expect(svg).toContain(`>${tick}</text>`);
  });

  it('skips non-finite points: they neither reach the SVG nor stretch the axes', () => {
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).not.toContain('>1000000000<');
    // The second series breaks at the NaN: one lone point, then a line through the next two.
    const colours = [...svg.matchAll(/<g fill="(#[0-9a-f]{6})" stroke="\1">(.*?)<\/g>/g)];
    expect(colours).toHaveLength(2);
    expect(colours[0]?.[1]).not.toBe(colours[1]?.[1]);
    expect(count(colours[0]?.[2] ?? '', '<path')).toBe(1);
    expect(count(colours[1]?.[2] ?? '', '<path')).toBe(1);
    expect(count(colours[1]?.[2] ?? '', 'L')).toBe(1);
    expect(count(colours[1]?.[2] ?? '', '<circle')).toBe(3);
  });

  it('draws an empty chart when there is nothing to draw', () => {
    const empty = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'failed', points: [{ x: 1, y: Number.NaN }] }] });
    assertWellFormed(empty);
    expect(empty).toContain('>no data</text>');
    expect(empty).toContain('>failed</text>');
  });

  it('keeps many series apart', () => {
    const many = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: Array.from({ length: 12 }, (_, i) => ({
        name: `s${i}`,
        points: [
          { x: 0, y: i },
          { x: 1, y: i + 1 },
        ],
      })),
    });
    assertWellFormed(many);
    const styles = [
      ...many.matchAll(/<line x1="[^"]*" y1="[^"]*" x2="[^"]*" y2="[^"]*" stroke="([^"]*)" stroke-width="2"( stroke-dasharray="[^"]*")?\/>/g),
    ].map((m) => `${m[1]}${m[2] ?? ''}`);
    expect(styles).toHaveLength(12);
    expect(new Set(styles).size).toBe(12);
  });
});

describe('heatmapSvg', () => {
  const map: Heatmap = {
    title: 'NLL by rank & alpha',
    rowLabels: ['r=4', 'r=8'],
    columnLabels: ['α=8', 'α=16', '<32>'],
    values: [
      [2.5, 2.25, null],
      [2.0, Number.NaN, 3.0],
    ],
    format: (value) => value.toFixed(2),
    lowerIsBetter: true,
  };
  const svg = heatmapSvg(map);
  const cells = [...svg.matchAll(/<rect class="cell"[^>]*\/><text[^>]*>([^<]*)<\/text>/g)];

  it('is well-formed SVG with one cell per value', () => {
    assertWellFormed(svg);
    expect(cells).toHaveLength(6);
    expect(cells.map((cell) => cell[1])).toEqual(['2.50', '2.25', '—', '2.00', '—', '3.00']);
  });

  it('labels rows and columns, escaped', () => {
    for (const label of ['r=4', 'r=8', 'α=8', 'α=16', '&lt;32&gt;', 'NLL by rank &amp; alpha']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('lower is better');
  });

  it('greys out missing cells', () => {
    const missing = cells.filter((cell) => cell[1] === '—').map((cell) => attribute(cell[0], 'fill'));
    expect(missing).toHaveLength(2);
    expect(new Set(missing).size).toBe(1);
    expect(missing[0]).toMatch(/^#/);
  });

  it('colours by value, and lowerIsBetter turns the scale around', () => {
    const fills = (svgText: string): string[] => [...svgText.matchAll(/<rect class="cell"[^>]*\/>/g)].map((cell) => attribute(cell[0], 'fill') ?? '');
    const lower = fills(svg);
    const higher = fills(heatmapSvg({ ...map, lowerIsBetter: false }));
    // The best and worst cells (2.00 and 3.00) swap colours; the missing ones stay grey.
    expect(lower[3]).toBe(higher[5]);
    expect(lower[5]).toBe(higher[3]);
    expect(lower[3]).not.toBe(lower[5]);
    expect(lower[2]).toBe(higher[2]);
    expect(new Set(lower.filter((_, i) => i !== 2 && i !== 4)).size).toBe(4);
  });

  it('formats numbers on its own and fits a given size', () => {
    const plain = heatmapSvg(
      { title: 't', rowLabels: ['a'], columnLabels: ['first long column label', 'second long column label'], values: [[0.123456, 2]] },
      { width: 300, height: 200 },
    );
    assertWellFormed(plain);
    expect(plain).toContain('>0.123</text>');
    expect(plain).toContain('width="300" height="200"');
    expect(plain).toContain('rotate(-45');
  });

  it('refuses values that do not match the labels', () => {
    expect(() => heatmapSvg({ ...map, values: [[1, 2, 3]] })).toThrow(/2 rows of 3/);
    expect(() =>
      heatmapSvg({
        ...map,
        values: [
          [1, 2, 3],
          [1, 2],
        ],
      }),
    ).toThrow(/2 rows of 3/);
  });
});

describe('savePng', () => {
  const folders: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  });

  it('says how to install Chromium when it is missing', async () => {
    vi.stubEnv('CHROMIUM_PATH', '/nonexistent/chromium');
    const folder = await mkdtemp(join(tmpdir(), 'npllm-plot-'));
    folders.push(folder);
    await expect(savePng(join(folder, 'x.png'), [lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })])).rejects.toThrow(
      /\/nonexistent\/chromium.*apt-get install -y chromium/,
    );
    expect(await readdir(folder)).toEqual([]);
  });

  it('refuses nothing to draw and bad column counts', async () => {
    await expect(savePng('/tmp/never.png', [])).rejects.toThrow(/no charts/);
    await expect(savePng('/tmp/never.png', ['<svg/>'], { columns: 0 })).rejects.toThrow(/columns/);
  });

  // One browser launch for the whole PNG path: three charts in a 2-column grid.
  it('writes a real PNG laid out in a grid, atomically, creating the folder', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'npllm-plot-'));
    folders.push(folder);
    const target = join(folder, 'nested', 'charts.png');
    const line = (title: string): string =>
      lineChartSvg(
        {
          title,
          xLabel: 'x',
          yLabel: 'y',
          series: [
            {
              name: 'a',
              points: [
                { x: 0, y: 1 },
                { x: 1, y: 3 },
              ],
            },
          ],
        },
        { width: 300, height: 200 },
      );
    const heat = heatmapSvg({ title: 'h', rowLabels: ['a'], columnLabels: ['b', 'c'], values: [[1, null]] }, { width: 250, height: 150 });
    await savePng(target, [line('one'), line('two'), heat], { columns: 2 });

    const png = await readFile(target);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(width).toBeGreaterThan(0);
    expect(height).toBeGreaterThan(0);
    // Two 300-wide charts abreast, two rows (200 high, then the 150-high heatmap), at twice the pixels.
    expect({ width, height }).toEqual({ width: 2 * 600, height: 2 * 350 });
    expect(await readdir(join(folder, 'nested'))).toEqual(['charts.png']);
  });
});
