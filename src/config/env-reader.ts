import { isIP } from 'node:net';

export type Env = Record<string, string | undefined>;

/** Reads process.env-shaped input, collecting every problem so that one error names them all. */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return Number(value);
  }

  bool(name: string, fallback: boolean): boolean {
    return this.oneOf(name, fallback ? 'true' : 'false', ['true', 'false'] as const) === 'true';
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return match;
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) this.problems.push(`${name} must be a ${protocols.join(' or ')}// URL`);
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  /** host:port,host:port,… */
  hostPorts(name: string): Array<{ host: string; port: number }> {
    const value = this.raw(name);
    if (value === undefined) return [];
    const out: Array<{ host: string; port: number }> = [];
    for (const entry of value.split(',').map((e) => e.trim())) {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry);
      if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
        this.problems.push(`${name} must be a comma-separated list of host:port (got "${entry}")`);
        continue;
      }
      out.push({ host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) });
    }
    return out;
  }

  /**
   * TRUST_PROXY: false, a hop count (true = 1), or addresses/CIDRs of the proxies (Fastify's
   * trustProxy takes each form; proxy-addr then picks the right-most untrusted address).
   */
  trustProxy(name: string): false | number | string[] {
    const value = this.raw(name);
    if (value === undefined || value.toLowerCase() === 'false') return false;
    if (value.toLowerCase() === 'true') return 1;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= 10) return hops;
      this.problems.push(`${name} as a hop count must be 1 to 10 (got "${value}")`);
      return false;
    }
    const entries = value.split(',').map((e) => e.trim());
    const bad = entries.filter((e) => !isProxyEntry(e));
    if (bad.length > 0) {
      this.problems.push(`${name} must be false, a hop count, or a list of proxy addresses/CIDRs (bad: ${bad.join(', ')})`);
      return false;
    }
    return entries;
  }
}

function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || isIP(address) === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128);
}
