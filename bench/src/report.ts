/**
 * One benchmark's result rows: each figure with a baseline measured in the same run beside it.
 * Printed as an aligned table for people, or with `--json` as one JSON object per row:
 * `{"bench","metric","value","unit","baseline","baseline_value"}`.
 */
export interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** What the figure is compared with (another system, a raw API, or a target). */
  baseline: string;
  baseline_value: number | null;
  /** Optional target, e.g. '>= 2000000'; printed, never asserted here. */
  target?: string;
  note?: string;
}

/** The `p` quantile (0 … 1) of an ascending array; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function fmt(v: number | null): string {
  if (v === null) return '-';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export function printRows(rows: readonly Row[], json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  if (json) {
    for (const r of rows) {
      write(`${JSON.stringify({ bench: r.bench, metric: r.metric, value: r.value, unit: r.unit, baseline: r.baseline, baseline_value: r.baseline_value })}\n`);
    }
    return;
  }
  const header = ['bench', 'metric', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'target', 'note'];
  const table = rows.map((r) => [
    r.bench,
    r.metric,
    fmt(r.value),
    r.unit,
    r.baseline,
    fmt(r.baseline_value),
    r.baseline_value ? `${(r.value / r.baseline_value).toFixed(2)}x` : '-',
    r.target ?? '',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |\n`;
  write(line(header));
  write(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) write(line(row));
}
