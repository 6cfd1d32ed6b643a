/**
 * uPlot charts of the incident room (browser only). A canvas cannot read CSS variables, so the colours are read
 * from the --vscode-charts-* variables with getComputedStyle and the charts are drawn again when the theme changes.
 * Values are worded by the one wording module (%, ms/s, MiB; never scientific notation).
 */
import uPlot from 'uplot';
import { valueWording } from '../core/observe/signalWording';
import type { MarkerView } from './protocol';
import type { ChartMount } from './room';

export interface ThemeColours {
  readonly line: string;
  readonly band: string;
  readonly text: string;
  readonly grid: string;
  readonly markers: Readonly<Record<string, string>>;
}

/** The theme's chart colours, read now (they change with the theme). */
export function themeColours(): ThemeColours {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const red = v('--vscode-charts-red', '#f14c4c');
  const blue = v('--vscode-charts-blue', '#3794ff');
  const green = v('--vscode-charts-green', '#89d185');
  const yellow = v('--vscode-charts-yellow', '#cca700');
  const orange = v('--vscode-charts-orange', '#d18616');
  const purple = v('--vscode-charts-purple', '#b180d7');
  const fg = v('--vscode-charts-foreground', v('--vscode-foreground', '#cccccc'));
  const lines = v('--vscode-charts-lines', 'rgba(128,128,128,0.35)');
  return {
    line: blue,
    band: green,
    text: fg,
    grid: lines,
    markers: { change: purple, 'coincident-change': purple, onset: orange, detection: yellow, action: blue, verification: fg, recovery: green, escalation: red, 'whatif-detection': yellow, 'whatif-action': blue },
  };
}

/** A colour with an alpha, for the band's fill: hex colours get one, others are used as they are. */
function translucent(colour: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(colour) ?? /^#([0-9a-f]{3})$/i.exec(colour);
  if (!m) return colour;
  const hex = m[1].length === 3 ? m[1].replace(/./g, (c) => c + c) : m[1];
  return `rgba(${parseInt(hex.slice(0, 2), 16)},${parseInt(hex.slice(2, 4), 16)},${parseInt(hex.slice(4, 6), 16)},${alpha})`;
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 19);

/** Mounts one chart per container; returns what disposes them. */
export function mountCharts(mounts: ReadonlyArray<ChartMount>, markers: ReadonlyArray<MarkerView>, until: number): () => void {
  const colours = themeColours();
  const plots: uPlot[] = [];
  for (const m of mounts) plots.push(mountChart(m, markers, until, colours));
  return () => {
    for (const p of plots) p.destroy();
  };
}

function mountChart(mount: ChartMount, markers: ReadonlyArray<MarkerView>, until: number, colours: ThemeColours): uPlot {
  const c = mount.chart;
  const el = mount.el as unknown as HTMLElement;
  const readout = mount.readout as unknown as HTMLElement;
  const keep = c.t.map((t) => t <= until);
  const xs = c.t.filter((_, k) => keep[k]).map((t) => t / 1000);
  const pick = (arr: ReadonlyArray<number | null>) => arr.filter((_, k) => keep[k]);
  const values = pick(c.values);
  const lower = pick(c.lower);
  const upper = pick(c.upper);
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '—' : valueWording(c.signal, v));
  const shown = markers.filter((m) => m.t <= until);
  const width = Math.max(320, el.clientWidth || (el.parentElement?.clientWidth ?? 640));
  const say = (idx: number | null | undefined) => {
    if (idx === null || idx === undefined || idx < 0 || idx >= xs.length) return;
    const band = lower[idx] === null && upper[idx] === null ? '' : `; expected ${fmt(lower[idx])} to ${fmt(upper[idx])}`;
    const near = shown.filter((m) => Math.abs(m.t / 1000 - xs[idx]) <= 2.5).map((m) => m.label);
    readout.textContent = `${clock(xs[idx] * 1000)} UTC: ${c.label} ${fmt(values[idx])}${band}${near.length ? ` — ${near.join(', ')}` : ''}`;
  };
  const opts: uPlot.Options = {
    width,
    height: 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: true } },
    scales: { x: { time: true } },
    series: [
      { value: (_u, v) => (v === null ? '—' : clock(v * 1000)) },
      { label: c.label, stroke: colours.line, width: 2, value: (_u, v) => fmt(v) },
      { label: 'expected upper', stroke: translucent(colours.band, 0.6), width: 1, dash: [4, 4], value: (_u, v) => fmt(v) },
      { label: 'expected lower', stroke: translucent(colours.band, 0.6), width: 1, dash: [4, 4], value: (_u, v) => fmt(v) },
    ],
    bands: [{ series: [2, 3], fill: translucent(colours.band, 0.18) }],
    axes: [
      { stroke: colours.text, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid }, values: (_u, ticks) => ticks.map((t) => clock(t * 1000).slice(0, 8)) },
      { stroke: colours.text, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid }, size: 70, values: (_u, ticks) => ticks.map((t) => fmt(t)) },
    ],
    hooks: {
      setCursor: [(u) => say(u.cursor.idx)],
      draw: [
        (u) => {
          // vertical markers: the change, onset, detection, each action and verification, recovery
          const ctx = u.ctx;
          ctx.save();
          const top = u.bbox.top;
          const bottom = u.bbox.top + u.bbox.height;
          ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
          let row = 0;
          for (const m of shown) {
            const x = u.valToPos(m.t / 1000, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = colours.markers[m.kind] ?? colours.text;
            ctx.fillStyle = ctx.strokeStyle;
            ctx.lineWidth = devicePixelRatio * (m.kind.startsWith('whatif-') ? 1 : 1.5);
            ctx.setLineDash(m.kind.startsWith('whatif-') || m.kind === 'coincident-change' ? [6 * devicePixelRatio, 4 * devicePixelRatio] : []);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, bottom);
            ctx.stroke();
            ctx.fillText(m.label, x + 3 * devicePixelRatio, top + (10 + 11 * (row++ % 4)) * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
  const plot = new uPlot(opts, [xs, values, upper, lower] as uPlot.AlignedData, el);
  // keyboard: the arrow keys move the cursor sample by sample, Home/End jump; the readout is aria-live
  let idx = xs.length - 1;
  el.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (!xs.length) return;
    if (ev.key === 'ArrowLeft') idx = Math.max(0, idx - 1);
    else if (ev.key === 'ArrowRight') idx = Math.min(xs.length - 1, idx + 1);
    else if (ev.key === 'Home') idx = 0;
    else if (ev.key === 'End') idx = xs.length - 1;
    else return;
    ev.preventDefault();
    const y = values[idx];
    plot.setCursor({ left: plot.valToPos(xs[idx], 'x'), top: y === null ? 0 : plot.valToPos(y, 'y') });
    say(idx);
  });
  el.setAttribute('data-points', String(xs.length));
  el.setAttribute('data-band-points', String(upper.filter((v) => v !== null).length));
  el.setAttribute('data-markers', shown.map((m) => m.kind).join(' '));
  // what the canvas was drawn with, so a test can tell a redraw in the new theme's colours
  el.setAttribute('data-line-colour', colours.line);
  return plot;
}
