// Benchmarks build on the test fixtures (service, credentials, STS answers); here only what measuring adds.
export { BASE_CREDENTIALS, createService, realisticAssumeRoleOutput as stsAnswer, tenantRole } from '../test/support/fixtures';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Prints rows as an aligned Markdown table. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  process.stdout.write(`\n${title}\n\n${line(header)}\n| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |\n${cells.slice(1).map(line).join('\n')}\n`);
}

/** A clock for virtual time: Date.now() runs on, plus whatever the benchmark skips ahead. */
export class VirtualClock {
  private offset = 0;
  private readonly realNow = Date.now;
  install(): void {
    Date.now = () => this.realNow() + this.offset;
  }
  skip(ms: number): void {
    this.offset += ms;
  }
  uninstall(): void {
    Date.now = this.realNow;
    this.offset = 0;
  }
}

/** Heap in use after two full collections (bytes): needs `node --expose-gc`, as `npm run bench` runs. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
