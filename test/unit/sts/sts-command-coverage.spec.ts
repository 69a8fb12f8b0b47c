/**
 * Every command of the installed `@aws-sdk/client-sts` is either wrapped by `StsService` or named with why not, in the
 * operations tables of README.md and docs/sts-operations.md. A new STS command in an SDK upgrade fails this spec until
 * it is either, in both.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sts from '@aws-sdk/client-sts';
import { StsService } from '../../../src';

interface OperationRow {
  command: string;
  /** The `StsService` method, or undefined when the row says why it is not wrapped. */
  method?: string;
  why: string;
}

/** The rows of the operations table: `| \`XCommand\` | \`sts.method(…)\` or — | why |`. */
function operationsTable(markdown: string): OperationRow[] {
  const text = readFileSync(join(__dirname, '../../..', markdown), 'utf8');
  return [...text.matchAll(/^\| `(\w+Command)` \| (?:`sts\.(\w+)\(.*?\)`|—) \| (.*?) \|$/gm)].map(([, command, method, why]) => ({
    command: command as string,
    method,
    why: (why as string).trim(),
  }));
}

const exportedCommands = Object.keys(sts)
  .filter((name) => /^[A-Z]\w+Command$/.test(name))
  .sort();

describe.each(['README.md', 'docs/sts-operations.md'])('the STS operations table of %s', (markdown) => {
  const rows = operationsTable(markdown);

  it('names every command the installed @aws-sdk/client-sts exports, once, and nothing else', () => {
    expect(exportedCommands.length).toBeGreaterThanOrEqual(11);
    expect(rows.map((row) => row.command).sort()).toEqual(exportedCommands);
  });

  it('names, for each command, a method StsService has, or says why it is not wrapped', () => {
    for (const row of rows) {
      if (row.method === undefined) {
        expect({ command: row.command, why: row.why.length > 20 }).toEqual({ command: row.command, why: true });
      } else {
        expect({ command: row.command, method: typeof (StsService.prototype as unknown as Record<string, unknown>)[row.method] }).toEqual({
          command: row.command,
          method: 'function',
        });
      }
    }
  });
});
