/**
 * `npm run demo`: a multi-tenant SaaS backend reaching its customers' AWS accounts through nestjs-aws-sts,
 * against a local STS endpoint on 127.0.0.1 — no AWS account needed. Import `runDemo` to drive it from a test.
 */
import { ConsoleLogger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { StsService, type CredentialCacheStats } from '../src'; // in your app: 'nestjs-aws-sts'
import type { LocalStsServer } from '../test/support/local-sts';
import { DemoAppModule } from './demo-app.module';
import { CHAINED_TENANT, PLATFORM, TENANTS, startLocalAws } from './local-aws';
import { TenantAccessService } from './tenant-access.service';

export interface DemoSummary {
  verified: boolean;
  wrongExternalIdCode?: string;
  reusedFromCache: boolean;
  callerArn?: string;
  fanOut: { accountId: string; tenant: string; ok: boolean; code?: string }[];
  chainedArn?: string;
  chainedSessionMinutes: number;
  cache: CredentialCacheStats;
  /** Requests the local STS endpoint answered, and the `sts-call` events the service emitted. */
  stsCalls: number;
  stsCallEvents: number;
}

const key = (accessKeyId: string) => `${accessKeyId.slice(0, 8)}…`; // a prefix only: never print secrets
const time = (date: Date) => `${date.toISOString().slice(11, 19)}Z`;
const minutesLeft = (date: Date) => Math.round((date.getTime() - Date.now()) / 60_000);
const row = (...cells: [string, number][]) => `   ${cells.map(([text, width]) => text.padEnd(width)).join(' ')}`.trimEnd();
const wrap = (text: string, width = 80) => text.match(new RegExp(`.{1,${width}}(\\s|$)`, 'g'))?.map((line) => line.trim()) ?? [text];

export async function runDemo(write: (line: string) => void): Promise<DemoSummary> {
  const server = await startLocalAws();
  try {
    // Warnings only: the library logs each refused STS call (role ARN and request id, never a secret).
    const logger = new ConsoleLogger({ logLevels: ['warn', 'error'], colors: false });
    const app = await NestFactory.createApplicationContext(DemoAppModule.forEndpoint(server.endpoint, { accessKeyId: PLATFORM.accessKeyId, secretAccessKey: PLATFORM.secretAccessKey }), { logger, abortOnError: false });
    try {
      return await play(app, server, write);
    } finally {
      await app.close();
    }
  } finally {
    await server.close();
  }
}

async function play(app: INestApplicationContext, server: LocalStsServer, write: (line: string) => void): Promise<DemoSummary> {
  const tenants = app.get(TenantAccessService);
  const sts = app.get(StsService);
  let stsCallEvents = 0;
  sts.events$.subscribe((event) => event.type === 'sts-call' && stsCallEvents++);
  const [acme] = TENANTS;
  write(`nestjs-aws-sts demo: local STS at ${server.endpoint}, signed as ${PLATFORM.arn}`);

  write('\n1. Onboard a customer: validateAccess');
  const check = await tenants.onboard(acme);
  write(row([`${acme.name}, its ExternalId`, 26], [check.ok ? `ok       account ${check.accountId}  ${check.arn}` : `refused  ${check.error.code}`, 0]));
  const wrong = await tenants.onboard({ ...acme, externalId: 'ext-acme-guessed' });
  write(row([`${acme.name}, a wrong ExternalId`, 26], [wrong.ok ? 'ok (unexpected!)' : `refused  ${wrong.error.code}`, 0]));
  if (!wrong.ok) wrap(`hint: ${wrong.error.hint}`).forEach((line) => write(row(['', 26], [line, 0])));

  write('\n2. Assume the role, then reuse it: getCredentials');
  const calls = [server.callCount('AssumeRole')];
  const first = await tenants.credentialsFor(acme);
  calls.push(server.callCount('AssumeRole'));
  const second = await tenants.credentialsFor(acme);
  calls.push(server.callCount('AssumeRole'));
  const reusedFromCache = second.accessKeyId === first.accessKeyId && calls[2] === calls[1];
  write(row(['first call', 14], [key(first.accessKeyId), 12], [`expires ${time(first.expiration)}`, 26], [`STS AssumeRole calls ${calls[0]} → ${calls[1]}`, 0]));
  write(row(['second call', 14], [key(second.accessKeyId), 12], [reusedFromCache ? 'same keys, from the cache' : 'NEW keys', 26], [`STS AssumeRole calls ${calls[1]} → ${calls[2]}`, 0]));
  const callerArn = await tenants.whoAmIAs(acme);
  write(row(['as the tenant', 14], [`GetCallerIdentity → ${callerArn}`, 0]));

  write('\n3. Every customer at once: assumeRoleInAccounts (concurrency 3)');
  const results = await tenants.credentialsForAll(TENANTS);
  write(row(['account', 14], ['tenant', 10], ['result', 0]));
  results.forEach((result, i) => {
    const outcome = result.ok ? `ok     ${key(result.credentials.accessKeyId)}  expires ${time(result.credentials.expiration)}` : `error  ${result.error.code}`;
    write(row([result.accountId, 14], [TENANTS[i].name, 10], [outcome, 0]));
  });
  const fanOut = results.map((result, i) => ({ accountId: result.accountId, tenant: TENANTS[i].name, ok: result.ok, code: result.ok ? undefined : result.error.code }));

  write('\n4. Role chaining: getCredentials({ roleArn, externalId, via: { roleArn: hub, externalId } })');
  const chained = await tenants.credentialsFor(CHAINED_TENANT);
  const hub = await sts.getCredentials(tenants.requestFor(CHAINED_TENANT).via!); // the cached hop the chain used
  write(row(['hub', 6], [`${minutesLeft(hub.expiration)} min`, 8], [`${hub.assumedRoleUser?.arn}`, 0]));
  write(row(['spoke', 6], [`${minutesLeft(chained.expiration)} min`, 8], [`${chained.assumedRoleUser?.arn}`, 0]));
  write(row(['', 15], ['sessions default to 2 h here; STS caps a chained session at 1 h', 0]));

  write('\n5. Totals');
  const cache = sts.cache.stats();
  const stsCalls = server.callCount();
  write(row(['cache', 10], [`${cache.size} entries, ${cache.hits} hits, ${cache.misses} misses, ${cache.refreshFailures} failed fetch`, 0]));
  write(row(['STS calls', 10], [`${stsCalls} answered by the endpoint: AssumeRole ${server.callCount('AssumeRole')}, GetCallerIdentity ${server.callCount('GetCallerIdentity')}`, 0]));
  write(row(['events$', 10], [`${stsCallEvents} sts-call events (all but the tenant client's own GetCallerIdentity)`, 0]));

  const chainedArn = chained.assumedRoleUser?.arn;
  return { verified: check.ok, wrongExternalIdCode: wrong.ok ? undefined : wrong.error.code, reusedFromCache, callerArn, fanOut, chainedArn, chainedSessionMinutes: minutesLeft(chained.expiration), cache, stsCalls, stsCallEvents };
}

if (require.main === module) {
  runDemo((line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
