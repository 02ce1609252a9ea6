/** A small hand-written SVG line chart (no dependency): latency against load. */

export interface Point {
  x: number;
  y: number;
  label?: string;
}

export interface Series {
  name: string;
  color: string;
  dash?: string;
  points: Point[];
}

export interface Marker {
  x: number;
  label: string;
  color: string;
}

export interface Chart {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  series: Series[];
  markers?: Marker[];
  logY?: boolean;
}

const W = 760;
const H = 460;
const M = { left: 70, right: 24, top: 82, bottom: 60 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function fmt(v: number): string {
  if (v >= 1000) return `${Math.round(v / 100) / 10}k`.replace('.0k', 'k');
  if (v >= 10 || Number.isInteger(v)) return String(Math.round(v));
  return v.toFixed(1);
}

export function lineChart(chart: Chart): string {
  const all = chart.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = [...all.map((p) => p.x), ...(chart.markers ?? []).map((m) => m.x)];
  const ys = all.map((p) => p.y);
  const xMax = Math.max(1, ...xs) * 1.08;
  const xStep = niceStep(xMax, 8);
  const xTop = Math.ceil(xMax / xStep) * xStep;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number) => M.left + (x / xTop) * pw;

  let py: (y: number) => number;
  let yTicks: number[];
  if (chart.logY) {
    const lo = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...ys))));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(lo * 10, ...ys)));
    py = (y: number) => M.top + ph - ((Math.log10(Math.max(y, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
    yTicks = [];
    for (let d = lo; d <= hi * 1.0001; d *= 10) for (const k of [1, 2, 5]) if (d * k <= hi * 1.0001) yTicks.push(d * k);
  } else {
    const yMax = Math.max(1, ...ys) * 1.1;
    const yStep = niceStep(yMax, 6);
    const yTop = Math.ceil(yMax / yStep) * yStep;
    py = (y: number) => M.top + ph - (y / yTop) * ph;
    yTicks = [];
    for (let v = 0; v <= yTop + 1e-9; v += yStep) yTicks.push(v);
  }

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(chart.title)}</text>`);
  if (chart.subtitle) out.push(`<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${esc(chart.subtitle)}</text>`);
  // Grid and ticks.
  for (let v = 0; v <= xTop + 1e-9; v += xStep) {
    out.push(`<line x1="${px(v)}" y1="${M.top}" x2="${px(v)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${px(v)}" y="${M.top + ph + 16}" text-anchor="middle" fill="#333">${fmt(v)}</text>`);
  }
  for (const v of yTicks) {
    out.push(`<line x1="${M.left}" y1="${py(v)}" x2="${M.left + pw}" y2="${py(v)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${py(v) + 4}" text-anchor="end" fill="#333">${fmt(v)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(chart.xTitle)}</text>`);
  out.push(
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yTitle)}${chart.logY ? ' (log scale)' : ''}</text>`,
  );
  // Markers (vertical lines).
  (chart.markers ?? []).forEach((m, i) => {
    out.push(`<line x1="${px(m.x)}" y1="${M.top}" x2="${px(m.x)}" y2="${M.top + ph}" stroke="${m.color}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${px(m.x) - 4}" y="${M.top + ph - 8 - i * 14}" text-anchor="end" fill="${m.color}">${esc(m.label)}</text>`);
  });
  // Series.
  chart.series.forEach((s) => {
    // In the order given (by load), not by x: a curve that bends back shows saturation.
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length === 0) return;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${px(p.x).toFixed(1)} ${py(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of pts) {
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      if (p.label) out.push(`<text x="${(px(p.x) + 5).toFixed(1)}" y="${(py(p.y) - 6).toFixed(1)}" fill="${s.color}" font-size="10">${esc(p.label)}</text>`);
    }
  });
  // Legend: one row under the subtitle.
  const slot = pw / Math.max(1, chart.series.length);
  chart.series.forEach((s, i) => {
    const y = 64;
    const x = M.left + i * slot;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    out.push(`<text x="${x + 28}" y="${y + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
