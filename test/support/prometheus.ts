/** One sample of the Prometheus text format: `name{label="value",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape, parsed: the families declared (# TYPE) and every sample. */
export class Scrape {
  readonly types = new Map<string, string>();
  readonly samples: Sample[] = [];

  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [name, type] = line.slice(7).split(' ');
        this.types.set(name, type);
      } else if (line !== '' && !line.startsWith('#')) {
        this.samples.push(parseSample(line));
      }
    }
  }

  /** Samples named `name` whose labels include `labels`. */
  find(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The sum of the matching samples' values (0 when there are none). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels).reduce((sum, s) => sum + s.value, 0);
  }

  /** Every name a query may use: families, and the series names their types imply (_bucket, _sum, _count). */
  get names(): Set<string> {
    const names = new Set(this.samples.map((s) => s.name));
    for (const [family, type] of this.types) {
      names.add(family);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
    }
    return names;
  }

  /** Label names seen on the series of `name` (and on its family's other series). */
  labelsOf(name: string): Set<string> {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    const out = new Set<string>();
    for (const s of this.samples)
      if (s.name === name || s.name.replace(/_(bucket|sum|count)$/, '') === family) Object.keys(s.labels).forEach((l) => out.add(l));
    return out;
  }
}

function parseSample(line: string): Sample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
  if (match === null) throw new Error(`not a sample line: ${line}`);
  const labels: Record<string, string> = {};
  const body = match[2]?.slice(1, -1) ?? '';
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  for (let m = label.exec(body); m !== null; m = label.exec(body)) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
  return { name: match[1], labels, value };
}

// PromQL words that are not metric names.
const PROMQL_WORDS = new Set(
  (
    'sum avg min max count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left group_right ' +
    'and or unless offset bool rate irate increase delta idelta deriv histogram_quantile clamp_min clamp_max clamp abs ceil floor ' +
    'round sqrt exp ln log2 log10 time vector scalar absent absent_over_time avg_over_time max_over_time min_over_time ' +
    'sum_over_time count_over_time last_over_time label_replace label_join sort sort_desc changes resets predict_linear le inf nan'
  ).split(' '),
);

/** The metric names a PromQL expression reads, with the label names its selectors match on. */
export function selectorsOf(expr: string): Array<{ name: string; labels: string[] }> {
  const out: Array<{ name: string; labels: string[] }> = [];
  // Drop string literals and durations, so their contents are not taken for names.
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  const word = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  for (let m = word.exec(code); m !== null; m = word.exec(code)) {
    const [, name, matchers] = m;
    const before = code.slice(0, m.index).trimEnd();
    const after = code.slice(m.index + m[0].length).trimStart();
    // A function call, a grouping clause's label list, or a number is not a selector.
    if (PROMQL_WORDS.has(name.toLowerCase()) || after.startsWith('(') || /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*$/.test(before))
      continue;
    if (/^[0-9]/.test(name)) continue;
    const labels = matchers === undefined ? [] : [...matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]);
    out.push({ name, labels });
  }
  return out;
}
