/**
 * The reliability report as Markdown (the CLI) or one self-contained HTML file with server-rendered SVG charts
 * (the CLI's --format html and the VS Code panel). Formatting only: the figures come from reliabilityReport().
 */
import { formatDurationMs, pct } from '../observe/signalWording';
import type { Quantiles, ReliabilityReport, ResolutionKind } from './reliabilityReport';

const RESOLUTIONS: ReadonlyArray<ResolutionKind> = ['automatically', 'by approval', 'without action', 'escalated', 'rejected', 'false alarm', 'open'];

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const dur = (ms: number | undefined) => (ms === undefined ? '—' : formatDurationMs(ms));
const q = (x: Quantiles) => (x.n ? `median ${dur(x.median)}, p90 ${dur(x.p90)} (${x.n} incident${x.n === 1 ? '' : 's'})` : 'no incidents');
const rate = (r: number | undefined, of: string) => (r === undefined ? `unknown (${of})` : pct(r));

/** The headline figures as label/value rows, shared by both formats. */
function headline(r: ReliabilityReport): Array<[string, string]> {
  const resolved = RESOLUTIONS.filter((k) => r.byResolution[k] > 0).map((k) => `${r.byResolution[k]} ${k}`);
  return [
    ['Incidents', `${r.incidents.length}${resolved.length ? `: ${resolved.join(', ')}` : ''}`],
    ['MTTR (symptom onset → verified recovery)', q(r.mttr)],
    ['Time to detect (symptom onset → detection)', q(r.timeToDetect)],
    ['False-alarm rate (from labels)', r.falseAlarms.labelled ? `${rate(r.falseAlarms.rate, '')} (${r.falseAlarms.falseAlarms} of ${r.falseAlarms.labelled} labelled)` : 'no labelled incidents'],
    [
      'Change failure rate',
      !r.changeFailure.recorded
        ? 'unknown: no release log in this state directory (releases are recorded from this version on)'
        : r.changeFailure.releases
          ? `${rate(r.changeFailure.rate, '')} (${r.changeFailure.failed} of ${r.changeFailure.releases} releases blamed for an incident)`
          : 'no releases seen',
    ],
  ];
}

/** "99.9%", "99.95%": an objective keeps its digits (pct rounds 99.9 to 100). */
const objective = (o: number) => `${Number((o * 100).toPrecision(6))}%`;

/** One row per SLO: id, objective, budget left over the report's period, burn rate, the incidents that burned it. */
function sloRows(r: ReliabilityReport): string[][] {
  return r.slos.map((s) => {
    const budget =
      s.budgetLeft === undefined
        ? s.unread ?? `not enough data (${pct(s.coverage)} of the period's steps)`
        : s.budgetLeft >= 0
          ? `${pct(s.budgetLeft)} left`
          : `overspent by ${pct(-s.budgetLeft)}`;
    const burn = s.burnRate === undefined ? '—' : `${burnText(s.burnRate)}×`;
    const incidents = s.incidents.length ? s.incidents.map((i) => `${i.id} (${i.target}, up to ${burnText(i.burn)}× at the ${i.factor}× alert)`).join('; ') : 'none';
    return [s.id, `${objective(s.objective)} over ${formatDurationMs(s.periodMs)}`, budget, burn, incidents];
  });
}

/** 1.0, 0.51, 14; never scientific notation. */
const burnText = (b: number) => (b >= 10 ? String(Math.round(b)) : b >= 1 ? b.toFixed(1) : b >= 0.01 ? String(Number(b.toPrecision(2))) : b > 0 ? '<0.01' : '0');

const SLO_HEADER = ['SLO', 'objective', 'error budget left over this period', 'burn rate over this period', 'incidents that burned it'];

function actionRows(r: ReliabilityReport): Array<[string, string]> {
  return Object.entries(r.actions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, outcomes]) => [kind, Object.entries(outcomes).map(([o, n]) => `${n} ${o}`).join(', ')]);
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(r: ReliabilityReport): string {
  const out: string[] = [`# Vigil reliability report, ${day(r.since)} to ${day(r.until)}`, ''];
  for (const [k, v] of headline(r)) out.push(`- **${k}**: ${mdCell(v)}`);
  if (r.slos.length || r.sloProblems.length) {
    out.push('', '## SLOs', '');
    if (r.slos.length) out.push(`| ${SLO_HEADER.join(' | ')} |`, `|${SLO_HEADER.map(() => '---').join('|')}|`, ...sloRows(r).map((row) => `| ${row.map(mdCell).join(' | ')} |`));
    out.push(...r.sloProblems.map((p) => `- not loaded: ${mdCell(p)}`));
  }
  out.push('', '## Actions by outcome', '');
  const actions = actionRows(r);
  if (actions.length) out.push('| action | outcomes |', '|---|---|', ...actions.map(([k, v]) => `| ${mdCell(k)} | ${mdCell(v)} |`));
  else out.push('No actions ran.');
  out.push('', '## Per week', '');
  if (r.weeks.length) {
    out.push('| week of | incidents | resolved automatically | by approval | without action | escalated | MTTR median | releases | failed releases |', '|---|---|---|---|---|---|---|---|---|');
    for (const w of r.weeks) out.push(`| ${day(w.weekStart)} | ${w.incidents} | ${w.byResolution.automatically ?? 0} | ${w.byResolution['by approval'] ?? 0} | ${w.byResolution['without action'] ?? 0} | ${w.byResolution.escalated ?? 0} | ${dur(w.mttr.median)} | ${w.releases} | ${w.failedReleases} |`);
  } else out.push('No incidents or releases in this period.');
  out.push('', '## Learned threshold changes', '');
  if (r.thresholdChanges.length) out.push(...r.thresholdChanges.map((c) => `- ${day(c.t)} ${mdCell(c.text)}`));
  else out.push('None.');
  out.push('', '## Incidents', '');
  if (r.incidents.length) {
    out.push('| opened (UTC) | target | diagnosis | resolution | time to detect | time to recover | id |', '|---|---|---|---|---|---|---|');
    for (const i of r.incidents) out.push(`| ${new Date(i.openedAt).toISOString().slice(0, 19).replace('T', ' ')} | ${mdCell(i.target)} | ${mdCell(i.diagnosis ?? '—')} | ${i.resolution}${i.label ? ` (labelled ${i.label})` : ''} | ${dur(i.timeToDetectMs)} | ${dur(i.timeToRecoverMs)} | ${mdCell(i.id)} |`);
  } else out.push('None.');
  return `${out.join('\n')}\n`;
}

/** Text for HTML: every string is escaped (targets and ids come from the cluster). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const COLOURS: Readonly<Record<ResolutionKind, string>> = {
  automatically: '#3fa34d',
  'by approval': '#2f81f7',
  'without action': '#8b949e',
  escalated: '#d29922',
  rejected: '#a371f7',
  'false alarm': '#6e7681',
  open: '#f85149',
};

/** Stacked bars of incidents per week by resolution, drawn as SVG on the server (no script). */
function weeksSvg(r: ReliabilityReport): string {
  const w = 640;
  const h = 180;
  const pad = 28;
  const max = Math.max(1, ...r.weeks.map((x) => x.incidents));
  const bw = r.weeks.length ? Math.min(60, (w - 2 * pad) / r.weeks.length - 8) : 0;
  const bars = r.weeks
    .map((wk, k) => {
      const x = pad + k * ((w - 2 * pad) / Math.max(1, r.weeks.length)) + 4;
      let y = h - pad;
      const rects = RESOLUTIONS.filter((res) => (wk.byResolution[res] ?? 0) > 0).map((res) => {
        const bh = ((wk.byResolution[res] ?? 0) / max) * (h - 2 * pad);
        y -= bh;
        return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="${COLOURS[res]}"><title>${escapeHtml(`${wk.byResolution[res]} ${res}`)}</title></rect>`;
      });
      return `${rects.join('')}<text x="${(x + bw / 2).toFixed(1)}" y="${h - 10}" text-anchor="middle" class="axis">${escapeHtml(day(wk.weekStart).slice(5))}</text><text x="${(x + bw / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="axis">${wk.incidents}</text>`;
    })
    .join('');
  const legend = RESOLUTIONS.map((res, k) => `<rect x="${pad + k * 88}" y="4" width="10" height="10" fill="${COLOURS[res]}"/><text x="${pad + k * 88 + 14}" y="13" class="axis">${escapeHtml(res)}</text>`).join('');
  return `<svg role="img" aria-label="Incidents per week by resolution" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" class="base"/>${legend}${bars}</svg>`;
}

/** MTTR median per week as a line with dots. */
function mttrSvg(r: ReliabilityReport): string {
  const w = 640;
  const h = 160;
  const pad = 40;
  const pts = r.weeks.map((wk, k) => ({ k, v: wk.mttr.median, label: day(wk.weekStart).slice(5) }));
  const max = Math.max(1, ...pts.map((p) => p.v ?? 0));
  const x = (k: number) => pad + (r.weeks.length <= 1 ? (w - 2 * pad) / 2 : (k / (r.weeks.length - 1)) * (w - 2 * pad));
  const y = (v: number) => h - pad - (v / max) * (h - 2 * pad);
  const known = pts.filter((p): p is { k: number; v: number; label: string } => p.v !== undefined);
  const line = known.map((p) => `${x(p.k).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const dots = known.map((p) => `<circle cx="${x(p.k).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="4" class="dot"><title>${escapeHtml(`week of ${p.label}: MTTR ${dur(p.v)}`)}</title></circle><text x="${x(p.k).toFixed(1)}" y="${(y(p.v) - 8).toFixed(1)}" text-anchor="middle" class="axis">${escapeHtml(dur(p.v))}</text>`).join('');
  const labels = pts.map((p) => `<text x="${x(p.k).toFixed(1)}" y="${h - 14}" text-anchor="middle" class="axis">${escapeHtml(p.label)}</text>`).join('');
  return `<svg role="img" aria-label="MTTR median per week" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" class="base"/>${known.length > 1 ? `<polyline points="${line}" class="line"/>` : ''}${dots}${labels}</svg>`;
}

export interface HtmlOptions {
  /** Nonce of the one <style> element; the page's CSP allows nothing else (no script at all). */
  readonly nonce: string;
}

/** One self-contained HTML file: inline CSS under a strict CSP, SVG charts, no script, no external resource. */
export function reportHtml(r: ReliabilityReport, opts: HtmlOptions): string {
  const e = escapeHtml;
  const rows = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td>${e(v)}</td></tr>`).join('');
  const incidents = r.incidents
    .map((i) => `<tr><td>${e(new Date(i.openedAt).toISOString().slice(0, 19).replace('T', ' '))}</td><td>${e(i.target)}</td><td>${e(i.diagnosis ?? '—')}</td><td>${e(i.resolution)}${i.label ? e(` (labelled ${i.label})`) : ''}</td><td>${e(dur(i.timeToDetectMs))}</td><td>${e(dur(i.timeToRecoverMs))}</td><td><code>${e(i.id)}</code></td></tr>`)
    .join('');
  const weeks = r.weeks.map((w) => `<tr><td>${e(day(w.weekStart))}</td><td>${w.incidents}</td><td>${w.byResolution.automatically ?? 0}</td><td>${w.byResolution['by approval'] ?? 0}</td><td>${w.byResolution['without action'] ?? 0}</td><td>${w.byResolution.escalated ?? 0}</td><td>${e(dur(w.mttr.median))}</td><td>${w.releases}</td><td>${w.failedReleases}</td></tr>`).join('');
  const nonce = e(opts.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Vigil reliability report</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family, system-ui, sans-serif); color: var(--vscode-foreground, #1f2328); background: var(--vscode-editor-background, #fff); margin: 16px 24px; max-width: 980px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 6px 0; } th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid rgba(128,128,128,0.25); }
th[scope=row] { font-weight: 600; white-space: nowrap; }
svg .axis { font-size: 11px; fill: currentColor; } svg .base { stroke: currentColor; stroke-opacity: 0.4; } svg .line { fill: none; stroke: #2f81f7; stroke-width: 2; } svg .dot { fill: #2f81f7; }
code { font-family: var(--vscode-editor-font-family, monospace); }
</style>
</head>
<body>
<h1>Vigil reliability report</h1>
<p>${e(day(r.since))} to ${e(day(r.until))}</p>
<table class="headline" aria-label="Headline figures">${rows(headline(r))}</table>
${r.slos.length || r.sloProblems.length ? `<h2>SLOs</h2>\n${r.slos.length ? `<table aria-label="SLOs"><thead><tr>${SLO_HEADER.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${sloRows(r).map((row) => `<tr>${row.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>` : ''}${r.sloProblems.map((p) => `<p>not loaded: ${e(p)}</p>`).join('')}\n` : ''}<h2>Incidents per week</h2>
${weeksSvg(r)}
<h2>MTTR per week</h2>
${mttrSvg(r)}
<table aria-label="Per week"><thead><tr><th>week of</th><th>incidents</th><th>automatically</th><th>by approval</th><th>without action</th><th>escalated</th><th>MTTR median</th><th>releases</th><th>failed releases</th></tr></thead><tbody>${weeks}</tbody></table>
<h2>Actions by outcome</h2>
${actionRows(r).length ? `<table aria-label="Actions by outcome">${rows(actionRows(r))}</table>` : '<p>No actions ran.</p>'}
<h2>Learned threshold changes</h2>
${r.thresholdChanges.length ? `<ul>${r.thresholdChanges.map((c) => `<li>${e(day(c.t))} ${e(c.text)}</li>`).join('')}</ul>` : '<p>None.</p>'}
<h2>Incidents</h2>
${r.incidents.length ? `<table aria-label="Incidents"><thead><tr><th>opened (UTC)</th><th>target</th><th>diagnosis</th><th>resolution</th><th>time to detect</th><th>time to recover</th><th>id</th></tr></thead><tbody>${incidents}</tbody></table>` : '<p>None.</p>'}
</body>
</html>
`;
}
