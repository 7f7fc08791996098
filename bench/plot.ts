/**
 * Charts for the benchmarks' reports. The SVG is built here as plain strings, so layout and
 * escaping can be tested without a browser; the PNG is drawn by Debian's Chromium through
 * Playwright (already a devDependency for the e2e tests), because a rasteriser package would be
 * one more native download on a machine that is offline but for the npm registry.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../electron/engine/base/files.js';

export interface LineSeries {
  name: string;
  points: readonly { x: number; y: number }[];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
}

export interface Heatmap {
  title: string;
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  values: readonly (readonly (number | null)[])[];
  /** printed in each cell */
  format?: (value: number) => string;
  /** colour scale: lower is better when true (e.g. NLL) */
  lowerIsBetter?: boolean;
}

const fontFamily = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const fontSize = 12;
/** Layout only ever guesses text widths (no font metrics without a browser); DejaVu Sans averages about this. */
const charWidth = 0.6 * fontSize;

/** Tableau 10: ten hues that stay apart on screen and in print; past ten, dashes tell series apart. */
const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;
const dashes = ['', '6 3', '2 3', '8 3 2 3'] as const;

/** A red–yellow–green scale reads as bad–good without a legend; the colour bar says which end is which anyway. */
const badColour = [215, 48, 39] as const;
const middleColour = [254, 224, 139] as const;
const goodColour = [26, 152, 80] as const;
const missingColour = '#d9d9d9';

// ---------------------------------------------------------------------------------------------
// Text and numbers

/** Also drops the characters XML 1.0 forbids outright, which no escape can represent. */
export function escapeXml(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0xfffe || code === 0xffff || (code >= 0xd800 && code <= 0xdfff)) continue;
    out += ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : ch === "'" ? '&apos;' : ch;
  }
  return out;
}

/** Coordinates to 2 decimals: sub-pixel enough, and keeps a 1000-point series' path short. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function textWidth(text: string, size = fontSize): number {
  return [...text].length * size * 0.6;
}

function truncate(text: string, maxChars: number): string {
  const chars = [...text];
  return chars.length <= maxChars ? text : `${chars.slice(0, Math.max(1, maxChars - 1)).join('')}…`;
}

function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * About `count` round ticks (steps of 1, 2 or 5 × 10^k) that cover [min, max]; the axis then runs
 * from the first tick to the last, so the data never touches an unlabelled edge. Of the candidate
 * steps, the one whose tick count is nearest `count` wins, and on a tie the one that wastes the
 * least axis.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    // One value still needs an axis around it.
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const magnitude = 10 ** Math.floor(Math.log10((max - min) / Math.max(1, count)));
  let best: { first: number; last: number; step: number; score: number; span: number } | undefined;
  for (const multiple of [1, 2, 5, 10]) {
    const step = multiple * magnitude;
    const first = Math.floor(min / step + 1e-9);
    const last = Math.ceil(max / step - 1e-9);
    const score = Math.abs(last - first + 1 - count);
    const span = (last - first) * step;
    if (!best || score < best.score || (score === best.score && span < best.span)) best = { first, last, step, score, span };
  }
  const { first, last, step } = best ?? { first: 0, last: 1, step: 1 };
  const decimals = decimalsFor(step);
  const ticks: number[] = [];
  // Multiplying integers by the step, rather than adding it up, keeps 0.1 + 0.2 errors out.
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

function formatTick(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs((ticks[1] ?? 0) - (ticks[0] ?? 0)) : 1;
  const text = value.toFixed(decimalsFor(step || 1));
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** Three significant digits, whole numbers as they are: enough to compare cells at a glance. */
export function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

/** A loop rather than Math.min(...values): long series would overflow the argument stack. */
function extent(values: readonly number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return [min, max];
}

function svgOpen(width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" ` +
    `font-family="${fontFamily}" font-size="${fontSize}">` +
    `<rect x="0" y="0" width="${n(width)}" height="${n(height)}" fill="#ffffff"/>`
  );
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${n(x)}" y="${n(y)}"${attributes ? ` ${attributes}` : ''}>${escapeXml(content)}</text>`;
}

// ---------------------------------------------------------------------------------------------
// Line chart

export function seriesStyle(index: number): { colour: string; dash: string } {
  return { colour: palette[index % palette.length] ?? '#000000', dash: dashes[Math.floor(index / palette.length) % dashes.length] ?? '' };
}

export function lineChartSvg(chart: LineChart, size: { width: number; height: number } = { width: 640, height: 400 }): string {
  const { width, height } = size;
  // A point needs both coordinates to be drawn; a NaN y (a run that failed) breaks the line there.
  const runs = chart.series.map((series) => {
    const segments: { x: number; y: number }[][] = [[]];
    for (const point of series.points) {
      if (Number.isFinite(point.x) && Number.isFinite(point.y)) segments[segments.length - 1]?.push(point);
      else if (segments[segments.length - 1]?.length) segments.push([]);
    }
    return segments.filter((segment) => segment.length > 0);
  });
  const finite = runs.flat(2);
  const hasData = finite.length > 0;
  const xTicks = hasData ? niceTicks(...extent(finite.map((p) => p.x))) : [0, 1];
  const yTicks = hasData ? niceTicks(...extent(finite.map((p) => p.y))) : [0, 1];
  const xLabels = xTicks.map((tick) => formatTick(tick, xTicks));
  const yLabels = yTicks.map((tick) => formatTick(tick, yTicks));

  const legendChars = Math.max(0, ...chart.series.map((series) => [...series.name].length));
  const legendWidth = chart.series.length > 0 ? Math.min(width * 0.35, 44 + legendChars * charWidth) : 0;
  const left = 28 + Math.max(...yLabels.map((label) => textWidth(label))) + 8;
  const top = 40;
  const right = width - legendWidth - 20;
  const bottom = height - 50;
  const x0 = xTicks[0] ?? 0;
  const x1 = xTicks[xTicks.length - 1] ?? 1;
  const y0 = yTicks[0] ?? 0;
  const y1 = yTicks[yTicks.length - 1] ?? 1;
  const sx = (x: number): number => left + ((x - x0) / (x1 - x0)) * (right - left);
  const sy = (y: number): number => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);

  const parts = [svgOpen(width, height)];
  parts.push(text(width / 2, 22, chart.title, 'text-anchor="middle" font-size="15" font-weight="bold"'));

  parts.push('<g stroke="#e6e6e6" stroke-width="1">');
  for (const tick of xTicks) parts.push(`<line x1="${n(sx(tick))}" y1="${n(top)}" x2="${n(sx(tick))}" y2="${n(bottom)}"/>`);
  for (const tick of yTicks) parts.push(`<line x1="${n(left)}" y1="${n(sy(tick))}" x2="${n(right)}" y2="${n(sy(tick))}"/>`);
  parts.push('</g>');
  parts.push(`<path d="M${n(left)} ${n(top)}V${n(bottom)}H${n(right)}" fill="none" stroke="#333333" stroke-width="1"/>`);

  parts.push('<g fill="#333333">');
  xTicks.forEach((tick, i) => parts.push(text(sx(tick), bottom + 17, xLabels[i] ?? '', 'text-anchor="middle"')));
  yTicks.forEach((tick, i) => parts.push(text(left - 6, sy(tick), yLabels[i] ?? '', 'text-anchor="end" dy="0.35em"')));
  parts.push('</g>');
  parts.push(text((left + right) / 2, height - 12, chart.xLabel, 'text-anchor="middle"'));
  parts.push(text(0, 0, chart.yLabel, `text-anchor="middle" transform="translate(15 ${n((top + bottom) / 2)}) rotate(-90)"`));
  if (!hasData) parts.push(text((left + right) / 2, (top + bottom) / 2, 'no data', 'text-anchor="middle" fill="#888888"'));

  runs.forEach((segments, index) => {
    const { colour, dash } = seriesStyle(index);
    const dashAttribute = dash ? ` stroke-dasharray="${dash}"` : '';
    // Markers only while they stay readable; a lone point between two gaps has no line to show it.
    const pointCount = segments.reduce((sum, segment) => sum + segment.length, 0);
    parts.push(`<g fill="${colour}" stroke="${colour}">`);
    for (const segment of segments) {
      if (segment.length > 1) {
        const d = segment.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(sx(p.x))} ${n(sy(p.y))}`).join('');
        parts.push(`<path d="${d}" fill="none" stroke-width="2" stroke-linejoin="round"${dashAttribute}/>`);
      }
      if (segment.length === 1 || pointCount <= 40) {
        for (const p of segment) parts.push(`<circle cx="${n(sx(p.x))}" cy="${n(sy(p.y))}" r="2.5" stroke="none"/>`);
      }
    }
    parts.push('</g>');
  });

  const legendX = right + 16;
  const maxLegendChars = Math.max(4, Math.floor((legendWidth - 36) / charWidth + 1e-6));
  chart.series.forEach((series, index) => {
    const { colour, dash } = seriesStyle(index);
    const y = top + 8 + index * 18;
    parts.push(
      `<line x1="${n(legendX)}" y1="${n(y)}" x2="${n(legendX + 22)}" y2="${n(y)}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    );
    parts.push(text(legendX + 28, y, truncate(series.name, maxLegendChars), 'dy="0.35em"'));
  });

  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Heatmap

function mix(from: readonly number[], to: readonly number[], t: number): number[] {
  return from.map((value, i) => value + ((to[i] ?? 0) - value) * t);
}

/** `goodness` 0 is the worst value in the map, 1 the best. */
function scaleColour(goodness: number): { fill: string; ink: string } {
  const rgb = goodness < 0.5 ? mix(badColour, middleColour, goodness * 2) : mix(middleColour, goodColour, (goodness - 0.5) * 2);
  const [r, g, b] = rgb.map((value) => Math.round(value)) as [number, number, number];
  // Perceived brightness (Rec. 601) decides whether dark or light text stays legible on the cell.
  const ink = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#111111' : '#ffffff';
  return { fill: `rgb(${r},${g},${b})`, ink };
}

export function heatmapSvg(map: Heatmap, size?: { width: number; height: number }): string {
  const rows = map.rowLabels.length;
  const columns = map.columnLabels.length;
  if (map.values.length !== rows || map.values.some((row) => row.length !== columns)) {
    const shape = map.values.map((row) => row.length).join(', ');
    throw new Error(`heatmapSvg "${map.title}": values must be ${rows} rows of ${columns} (one per row and column label), got rows of [${shape}]`);
  }
  const format = map.format ?? formatValue;
  const cells = map.values.map((row) => row.map((value) => (value !== null && Number.isFinite(value) ? value : null)));
  const labels = cells.map((row) => row.map((value) => (value === null ? '—' : format(value))));
  const finite = cells.flat().filter((value): value is number => value !== null);
  const [min, max] = finite.length ? extent(finite) : [0, 0];
  const goodness = (value: number): number => {
    const t = max === min ? 0.5 : (value - min) / (max - min);
    return map.lowerIsBetter ? 1 - t : t;
  };

  const rowLabelWidth = Math.max(0, ...map.rowLabels.map((label) => textWidth(label)));
  const columnLabelWidth = Math.min(160, Math.max(0, ...map.columnLabels.map((label) => textWidth(label))));
  const cellTextWidth = Math.max(0, ...labels.flat().map((label) => textWidth(label)));
  const left = 12 + rowLabelWidth + 8;
  const colourBarHeight = finite.length ? 44 : 12;
  const titleWidth = textWidth(map.title, 15) + 24;
  const defaultCellWidth = Math.max(48, cellTextWidth + 14, Math.min(columnLabelWidth + 12, 100));
  // Labels wider than their column are turned 45°, which needs room above the grid and to its right.
  const rotateIf = (cellWidth: number): boolean => columnLabelWidth + 8 > cellWidth;
  const rightFor = (cellWidth: number): number => (rotateIf(cellWidth) ? Math.max(16, columnLabelWidth * 0.71 - cellWidth / 2 + 8) : 16);
  const fitWidth = (right: number): number => (size ? (size.width - left - right) / Math.max(1, columns) : defaultCellWidth);
  const cellWidth = rotateIf(fitWidth(16)) ? fitWidth(rightFor(fitWidth(16))) : fitWidth(16);
  const rotate = rotateIf(cellWidth);
  const headerHeight = rotate ? columnLabelWidth * 0.71 + 14 : 22;
  const top = 40 + headerHeight;
  const cellHeight = size ? (size.height - top - colourBarHeight) / Math.max(1, rows) : 28;
  const gridWidth = cellWidth * columns;
  // The colour bar's caption sits right of the bar and must fit too.
  const captionRight = finite.length ? left + Math.min(240, Math.max(120, gridWidth)) + 8 + textWidth('higher is better', 10) + 8 : 0;
  const width = size?.width ?? Math.max(left + gridWidth + rightFor(cellWidth), titleWidth, captionRight, 240);
  const height = size?.height ?? top + cellHeight * rows + colourBarHeight;
  const maxColumnChars = Math.floor(160 / charWidth);

  const parts = [svgOpen(width, height)];
  parts.push(text(width / 2, 22, map.title, 'text-anchor="middle" font-size="15" font-weight="bold"'));
  map.columnLabels.forEach((label, column) => {
    const x = left + cellWidth * (column + 0.5);
    if (rotate) parts.push(text(x, top - 6, truncate(label, maxColumnChars), `transform="rotate(-45 ${n(x)} ${n(top - 6)})"`));
    else parts.push(text(x, top - 7, label, 'text-anchor="middle"'));
  });
  map.rowLabels.forEach((label, row) => parts.push(text(left - 8, top + cellHeight * (row + 0.5), label, 'text-anchor="end" dy="0.35em"')));

  const valueSize = Math.max(7, Math.min(fontSize, cellHeight * 0.45));
  cells.forEach((row, r) =>
    row.forEach((value, c) => {
      const x = left + cellWidth * c;
      const y = top + cellHeight * r;
      const { fill, ink } = value === null ? { fill: missingColour, ink: '#555555' } : scaleColour(goodness(value));
      parts.push(
        `<rect class="cell" x="${n(x)}" y="${n(y)}" width="${n(cellWidth)}" height="${n(cellHeight)}" fill="${fill}" stroke="#ffffff" stroke-width="1"/>`,
      );
      parts.push(
        text(x + cellWidth / 2, y + cellHeight / 2, labels[r]?.[c] ?? '', `text-anchor="middle" dy="0.35em" fill="${ink}" font-size="${n(valueSize)}"`),
      );
    }),
  );

  if (finite.length) {
    // Discrete steps instead of a gradient: gradient ids would clash once several SVGs share one page.
    const steps = 24;
    const barWidth = Math.min(240, Math.max(120, gridWidth));
    const y = top + cellHeight * rows + 14;
    for (let i = 0; i < steps; i++) {
      const value = min + ((max - min) * (i + 0.5)) / steps;
      parts.push(
        `<rect x="${n(left + (barWidth * i) / steps)}" y="${n(y)}" width="${n(barWidth / steps + 0.5)}" height="8" fill="${scaleColour(goodness(value)).fill}"/>`,
      );
    }
    parts.push(text(left, y + 21, format(min), 'font-size="10"'));
    parts.push(text(left + barWidth, y + 21, format(max), 'text-anchor="end" font-size="10"'));
    parts.push(text(left + barWidth + 8, y + 8, map.lowerIsBetter ? 'lower is better' : 'higher is better', 'font-size="10" fill="#555555"'));
  }

  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// PNG

/** The e2e tests' flags (e2e/playwright.config.ts): --no-sandbox because the benchmarks run as root here. */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Twice the SVG's size: text stays sharp when the PNG is viewed on a high-density screen or zoomed. */
const pixelRatio = 2;

function page(svgs: readonly string[], columns: number): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><style>' +
    'html,body{margin:0;padding:0;background:#ffffff}' +
    `#charts{display:inline-grid;grid-template-columns:repeat(${columns},max-content);align-items:start}` +
    '#charts>svg{display:block}' +
    `</style></head><body><div id="charts">${svgs.join('')}</div></body></html>`
  );
}

/** Renders several SVGs side by side (or stacked) into one PNG file, written atomically (tmp + rename). */
export async function savePng(path: string, svgs: readonly string[], options: { columns?: number } = {}): Promise<void> {
  if (svgs.length === 0) throw new Error(`savePng ${path}: no charts to draw`);
  // Three abreast by default: wider than that no longer fits a screen; `columns: 1` stacks them.
  const columns = options.columns ?? Math.min(svgs.length, 3);
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`savePng ${path}: columns must be a positive integer, got ${columns}`);
  const png = await renderPng(page(svgs, columns), path);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, [png]);
}

async function renderPng(html: string, path: string): Promise<Buffer> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  const fix = 'install it (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary';
  try {
    await access(executablePath, constants.X_OK);
  } catch {
    throw new Error(`savePng ${path}: Chromium, which draws the charts, is not at ${executablePath}: ${fix}`);
  }
  // Loaded only here so that building SVGs never needs the devDependency.
  const { chromium } = await import('@playwright/test');
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: chromiumArgs });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`savePng ${path}: could not start Chromium at ${executablePath} (${reason}): ${fix}`, { cause: error });
  }
  try {
    const tab = await browser.newPage({ deviceScaleFactor: pixelRatio });
    await tab.setContent(html);
    const box = await tab.locator('#charts').boundingBox();
    if (!box || box.width <= 0 || box.height <= 0) throw new Error(`savePng ${path}: the charts have no size (is each SVG given a width and height?)`);
    const width = Math.ceil(box.width);
    const height = Math.ceil(box.height);
    // The clip must lie inside the viewport, so the viewport grows to the charts.
    await tab.setViewportSize({ width, height });
    return await tab.screenshot({ type: 'png', omitBackground: false, clip: { x: 0, y: 0, width, height } });
  } finally {
    await browser.close();
  }
}
