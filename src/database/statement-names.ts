import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/** The name a prepared statement gets: the same on every connection and replica for the same text. */
export function nameOf(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}

/** The statement's command (SELECT, INSERT, WITH, BEGIN, …): a label with few values, never the text. */
export function operationOf(text: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return match === null ? 'OTHER' : match[1].toUpperCase();
}
