import { isIP, isIPv6 } from 'node:net';

/**
 * The address a throttle counts under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix,
 * since one subscriber usually holds a whole /64 and could otherwise rotate through it. Anything
 * that is not an address (a forged X-Forwarded-For reaching past a miscounted proxy hop) counts
 * under one shared name, so it cannot grow the throttle's keys.
 */
export function throttleAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return mapped[1];
  if (isIP(ip) === 0) return 'not-an-address';
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
