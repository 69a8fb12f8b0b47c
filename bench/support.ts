import { STSClient } from '@aws-sdk/client-sts';
import { StsService, resolveStsConfig, type ServerAwsStsConfig } from '../src';

export const BASE_CREDENTIALS = { accessKeyId: 'AKIABENCHEXAMPLE0001', secretAccessKey: 'bench-secret' };

/** A realistic STS answer: real session tokens run to about a kilobyte. */
export function stsAnswer(roleArn: string, lifetimeSeconds: number, serial: number) {
  return {
    Credentials: {
      AccessKeyId: `ASIA${String(serial).padStart(16, '0')}`,
      SecretAccessKey: 'x'.repeat(40),
      SessionToken: `IQoJb3JpZ2luX2Vj${'t'.repeat(900)}${serial}`,
      Expiration: new Date(Date.now() + lifetimeSeconds * 1000),
    },
    AssumedRoleUser: { Arn: `${roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/bench`, AssumedRoleId: `AROA${serial}:bench` },
  };
}

export function createService(config: ServerAwsStsConfig = {}): StsService {
  return new StsService(resolveStsConfig({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, ...config }), new STSClient({ region: 'us-east-1', credentials: BASE_CREDENTIALS }));
}

export const tenantRole = (tenant: number) => `arn:aws:iam::${String(100000000000 + tenant)}:role/TenantAccess`;

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
