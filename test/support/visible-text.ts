import { format, inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';

/**
 * Every way a user could turn a value into text, joined: `inspect` with hidden properties, `%o`, `%s`, `String`,
 * `JSON.stringify`, and for errors the message, stack, hint and the whole cause chain.
 */
export function visibleText(value: unknown, depth = 0): string {
  const texts = [inspect(value, { depth: 10, showHidden: true }), format('%o', value), format('%s', value)];
  try {
    texts.push(String(value));
  } catch {
    // a null-prototype object has no string form
  }
  try {
    texts.push(JSON.stringify(value) ?? '');
  } catch {
    // circular values cannot be stringified at all
  }
  if (value instanceof Error) {
    texts.push(value.message, value.stack ?? '', String((value as { hint?: string }).hint));
    if (value.cause !== undefined && depth < 5) texts.push(visibleText(value.cause, depth + 1));
  }
  return texts.join('\n');
}

/** A Nest logger that keeps every line it is given, for specs that search the logs. */
export function capturingLogger(): LoggerService & { lines: string[] } {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => {
    lines.push(format(...args));
  };
  return { lines, log: keep, error: keep, warn: keep, debug: keep, verbose: keep, fatal: keep };
}
