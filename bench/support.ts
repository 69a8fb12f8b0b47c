import { realisticAssumeRoleOutput } from '../test/support/fixtures';

// Benchmarks build on the test fixtures (service, credentials, STS answers); here only what measuring adds.
export { BASE_CREDENTIALS, createService, realisticAssumeRoleOutput as stsAnswer, tenantRole } from '../test/support/fixtures';

/** Lifetime of the simulated STS's credentials: one hour, the AssumeRole default. */
export const STS_LIFETIME_SECONDS = 3_600;

/**
 * `ticks` lists of `perTick` tenant indexes in [0, tenants), drawn from a Zipf(1) distribution: a few tenants are
 * hot, most are rare. The draws come in order, so the same seed gives the same requests however they are cut.
 */
export function zipfSchedule(random: () => number, tenants: number, ticks: number, perTick: number): number[][] {
  const weights = Array.from({ length: tenants }, (_, rank) => 1 / (rank + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let running = 0;
  const cdf = weights.map((weight) => (running += weight / total));
  const draw = () => {
    const u = random();
    let low = 0;
    let high = tenants - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cdf[middle] < u) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return Array.from({ length: ticks }, () => Array.from({ length: perTick }, draw));
}

/**
 * A simulated STS: each AssumeRole answers after `latency()` ms of real time with credentials valid for
 * `STS_LIFETIME_SECONDS` from `now()` (Date.now unless given: a virtual clock), counting calls and duplicate calls.
 */
export class SimulatedSts {
  calls = 0;
  /** Calls started for a role while another call for it was still running (what single-flight prevents). */
  duplicates = 0;
  /** Calls running now. */
  inFlight = 0;
  /** The most calls that were running at once. */
  peakInFlight = 0;
  private serial = 0;
  private readonly running = new Map<string, number>();

  constructor(
    private readonly latency: () => number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async assumeRole(roleArn: string) {
    this.calls++;
    this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlight);
    const running = this.running.get(roleArn) ?? 0;
    if (running > 0) this.duplicates++;
    this.running.set(roleArn, running + 1);
    await new Promise((resolve) => setTimeout(resolve, this.latency()));
    this.running.set(roleArn, (this.running.get(roleArn) ?? 1) - 1);
    this.inFlight--;
    const answer = realisticAssumeRoleOutput(roleArn, STS_LIFETIME_SECONDS, ++this.serial);
    answer.Credentials.Expiration = new Date(this.now() + STS_LIFETIME_SECONDS * 1000);
    return answer;
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Prints rows as an aligned Markdown table. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  process.stdout.write(
    `\n${title}\n\n${line(header)}\n| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |\n${cells.slice(1).map(line).join('\n')}\n`,
  );
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

/** The median and the range of measures, as `1.12× (1.08–1.20)`. */
export function medianWithSpread(values: number[], digits = 2, unit = '×'): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${median(sorted).toFixed(digits)}${unit} (${sorted[0].toFixed(digits)}–${sorted[sorted.length - 1].toFixed(digits)})`;
}

/** The median of measures. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 === 1 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
}
