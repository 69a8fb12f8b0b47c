/**
 * `npm run demo`: a multi-tenant SaaS backend reaching its customers' AWS accounts through nestjs-aws-sts,
 * against a local STS endpoint and a local S3 on 127.0.0.1 — no AWS account needed. Import `runDemo` to drive it from a test.
 */
import { ConsoleLogger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  StsService,
  customerRoleTemplate,
  generateExternalId,
  quickCreateUrl,
  trustPolicy,
  type ClientPoolStats,
  type CredentialCacheStats,
} from '../src'; // in your app: 'nestjs-aws-sts'
import { DemoAppModule } from './demo-app.module';
import { CHAINED_TENANT, PLATFORM, TENANTS, createStackRole, startLocalAws, type LocalAws } from './local-aws';
import { TenantAccessService, type Tenant } from './tenant-access.service';

export interface DemoSummary {
  /** The customers onboarded with the kit: whether their role passed, and why not. */
  onboarding: { name: string; ok: boolean; externalIdEnforced?: boolean; code?: string }[];
  verified: boolean;
  wrongExternalIdCode?: string;
  reusedFromCache: boolean;
  /** Whether every S3 request of step 4 was signed with its own tenant's cached key. */
  signedWithTenantKeys: boolean;
  /** STS calls made while step 4 served its S3 requests. */
  stsCallsWhileServing: number;
  /** AssumeRole calls made after onboarding: the report calls them the cache's misses. */
  cacheAssumeRoles: number;
  fanOut: { accountId: string; tenant: string; ok: boolean; code?: string }[];
  chainedArn?: string;
  chainedSessionMinutes: number;
  cache: CredentialCacheStats;
  /** The clients `clientFor` holds after the requests it served. */
  clients: ClientPoolStats;
  requestsServed: number;
  /** Requests the local STS endpoint answered, and the `sts-call` events the service emitted. */
  stsCalls: number;
  stsCallEvents: number;
}

const key = (accessKeyId: string) => `${accessKeyId.slice(0, 8)}…`; // a prefix only: never print secrets
const time = (date: Date) => `${date.toISOString().slice(11, 19)}Z`;
const minutesLeft = (date: Date) => Math.round((date.getTime() - Date.now()) / 60_000);
const row = (...cells: [string, number][]) => `   ${cells.map(([text, width]) => text.padEnd(width)).join(' ')}`.trimEnd();
/** New customers: Stark deploys the template as given; Pied Piper creates the role by hand and leaves out the condition. */
const NEW_CUSTOMERS = [
  { id: 'stark', name: 'Stark', account: '200000000006', dropExternalIdCondition: false },
  { id: 'piedpiper', name: 'Pied Piper', account: '200000000007', dropExternalIdCondition: true },
];
/** Where the platform hosts its template (CloudFormation reads it from S3; the demo only builds the link). */
const TEMPLATE_URL = 'https://platform-templates.s3.amazonaws.com/platform-access.json';
/** ExternalIds are shown to their customer only: the report prints a placeholder. */
const masked = (text: string, externalId: string) => text.split(externalId).join('<ExternalId>');
/** Cuts text with no spaces (a link, a JSON document) into lines of `width`. */
const cut = (text: string, width = 100) => text.match(new RegExp(`.{1,${width}}`, 'g')) ?? [text];
const wrap = (text: string, width = 80) => text.match(new RegExp(`.{1,${width}}(\\s|$)`, 'g'))?.map((line) => line.trim()) ?? [text];

export async function runDemo(write: (line: string) => void): Promise<DemoSummary> {
  const aws = await startLocalAws();
  try {
    // Errors only: the refusals the demo provokes on purpose would otherwise print a WARN line each.
    const logger = new ConsoleLogger({ logLevels: ['error'], colors: false });
    const app = await NestFactory.createApplicationContext(
      DemoAppModule.forEndpoints(aws.sts.endpoint, aws.s3.url, {
        accessKeyId: PLATFORM.accessKeyId,
        secretAccessKey: PLATFORM.secretAccessKey,
      }),
      { logger, abortOnError: false },
    );
    try {
      return await play(app, aws, write);
    } finally {
      await app.close();
    }
  } finally {
    await aws.close();
  }
}

async function play(app: INestApplicationContext, aws: LocalAws, write: (line: string) => void): Promise<DemoSummary> {
  const server = aws.sts;
  const tenants = app.get(TenantAccessService);
  const sts = app.get(StsService);
  let stsCallEvents = 0;
  sts.events$.subscribe((event) => event.type === 'sts-call' && stsCallEvents++);
  const [acme] = TENANTS;
  /** The customers the platform has stored: the seeded ones, then those onboarded below. */
  const customers = [...TENANTS];
  write(`nestjs-aws-sts demo: local STS at ${server.endpoint}, local S3 at ${aws.s3.url}, signed as ${PLATFORM.arn}`);

  write('\n1. Onboard new customers: trustPrincipal, customerRoleTemplate, generateExternalId, quickCreateUrl, validateAccess');
  const principalArn = await sts.trustPrincipal();
  const template = customerRoleTemplate({
    principalArn,
    roleName: 'PlatformAccess',
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    maxSessionDuration: 43200,
  });
  write(row(['trust principal', 16], [principalArn, 0]));
  write(
    row(
      ['template', 16],
      [
        `parameter ExternalId (NoEcho), role ${template.Resources.Role.Properties.RoleName} trusting that principal under sts:ExternalId, output RoleArn`,
        0,
      ],
    ),
  );
  const onboarding: DemoSummary['onboarding'] = [];
  for (const customer of NEW_CUSTOMERS) {
    const externalId = generateExternalId();
    const link = quickCreateUrl({
      templateUrl: TEMPLATE_URL,
      stackName: 'PlatformAccess',
      region: 'us-east-1',
      parameters: { ExternalId: externalId },
    });
    write(`   ${customer.name}: a new ExternalId (shown to ${customer.name} only) and the quick-create link`);
    cut(masked(link, externalId)).forEach((line) => write(row(['', 6], [line, 0])));
    if (customer.dropExternalIdCondition) {
      const {
        Statement: [{ Condition: _dropped, ...statement }],
        ...policy
      } = trustPolicy({ principalArn, externalId });
      write(row(['', 6], [`${customer.name} creates the role by hand from the trust policy, and leaves out its Condition:`, 0]));
      cut(JSON.stringify({ ...policy, Statement: [statement] })).forEach((line) => write(row(['', 8], [line, 0])));
    }
    const roleArn = createStackRole(server, template, customer.account, externalId, customer);
    const tenant: Tenant = { id: customer.id, name: customer.name, roleArn, externalId };
    const check = await tenants.onboard(tenant);
    if (check.ok)
      write(row(['', 6], [`validateAccess: ok, account ${check.accountId}, ExternalId enforced: ${check.externalIdEnforced} → stored`, 0]));
    else {
      write(row(['', 6], [`validateAccess: refused ${check.error.code} → not stored`, 0]));
      wrap(`hint: ${check.error.hint}`).forEach((line) => write(row(['', 6], [line, 0])));
    }
    onboarding.push({
      name: customer.name,
      ok: check.ok,
      externalIdEnforced: check.ok ? check.externalIdEnforced : undefined,
      code: check.ok ? undefined : check.error.code,
    });
    if (check.ok) customers.push(tenant);
  }

  write('\n2. Check a stored customer: validateAccess');
  const check = await tenants.onboard(acme);
  write(
    row(
      [`${acme.name}, its ExternalId`, 26],
      [check.ok ? `ok       account ${check.accountId}  ${check.arn}` : `refused  ${check.error.code}`, 0],
    ),
  );
  const wrong = await tenants.onboard({ ...acme, externalId: 'ext-acme-guessed' });
  write(row([`${acme.name}, a wrong ExternalId`, 26], [wrong.ok ? 'ok (unexpected!)' : `refused  ${wrong.error.code}`, 0]));
  if (!wrong.ok) wrap(`hint: ${wrong.error.hint}`).forEach((line) => write(row(['', 26], [line, 0])));

  const onboardingCalls = { assumeRole: server.callCount('AssumeRole'), getCallerIdentity: server.callCount('GetCallerIdentity') };

  write('\n3. Assume the role, then reuse it: getCredentials');
  const calls = [server.callCount('AssumeRole')];
  const first = await tenants.credentialsFor(acme);
  calls.push(server.callCount('AssumeRole'));
  const second = await tenants.credentialsFor(acme);
  calls.push(server.callCount('AssumeRole'));
  const reusedFromCache = second.accessKeyId === first.accessKeyId && calls[2] === calls[1];
  write(
    row(
      ['first call', 14],
      [key(first.accessKeyId), 12],
      [`expires ${time(first.expiration)}`, 26],
      [`STS AssumeRole calls ${calls[0]} → ${calls[1]}`, 0],
    ),
  );
  write(
    row(
      ['second call', 14],
      [key(second.accessKeyId), 12],
      [reusedFromCache ? 'same keys, from the cache' : 'NEW keys', 26],
      [`STS AssumeRole calls ${calls[1]} → ${calls[2]}`, 0],
    ),
  );

  write('\n4. Serve requests: clientFor(S3Client, tenant), one S3 client per tenant');
  const stark = customers.at(-1)!;
  const served = [acme, stark, acme, stark, acme, acme];
  const stsCallsBefore = server.callCount();
  const signers: [Tenant, string][] = [];
  for (const tenant of served) {
    const buckets = await tenants.bucketsOf(tenant);
    const signer = aws.s3.requests.at(-1)!.accessKeyId;
    signers.push([tenant, signer]);
    write(row([`as ${tenant.name}`, 14], [`S3 ListBuckets → ${buckets.length} buckets, signed with ${key(signer)}`, 0]));
  }
  const stsCallsWhileServing = server.callCount() - stsCallsBefore;
  // The keys each tenant's credentials hold now (from the cache: no STS call), against the keys S3 saw.
  const keyOf = new Map<Tenant, string>();
  for (const tenant of new Set(served)) keyOf.set(tenant, (await tenants.credentialsFor(tenant)).accessKeyId);
  const signedWithTenantKeys = signers.every(([tenant, signer]) => keyOf.get(tenant) === signer);
  const clients = sts.cache.clientStats();
  write(
    row(
      ['clients', 14],
      [`${served.length} requests, ${clients.created} S3 clients built, ${clients.hits} reused, ${clients.size} in the pool`, 0],
    ),
  );
  write(row(['signed', 14], [signedWithTenantKeys ? "every request with its own tenant's key" : 'NOT with the tenant keys', 0]));

  write('\n5. Every customer at once: assumeRoleInAccounts (concurrency 3)');
  const results = await tenants.credentialsForAll(customers);
  write(row(['account', 14], ['tenant', 10], ['result', 0]));
  results.forEach((result, i) => {
    const outcome = result.ok
      ? `ok     ${key(result.credentials.accessKeyId)}  expires ${time(result.credentials.expiration)}`
      : `error  ${result.error.code}`;
    write(row([result.accountId, 14], [customers[i].name, 10], [outcome, 0]));
  });
  const fanOut = results.map((result, i) => ({
    accountId: result.accountId,
    tenant: customers[i].name,
    ok: result.ok,
    code: result.ok ? undefined : result.error.code,
  }));

  write('\n6. Role chaining: getCredentials({ roleArn, externalId, via: { roleArn: hub, externalId } })');
  const chained = await tenants.credentialsFor(CHAINED_TENANT);
  const hub = await sts.getCredentials(tenants.requestFor(CHAINED_TENANT).via!); // the cached hop the chain used
  write(row(['hub', 6], [`${minutesLeft(hub.expiration)} min`, 8], [`${hub.assumedRoleUser?.arn}`, 0]));
  write(row(['spoke', 6], [`${minutesLeft(chained.expiration)} min`, 8], [`${chained.assumedRoleUser?.arn}`, 0]));
  write(row(['', 15], ['sessions default to 2 h here; STS caps a chained session at 1 h', 0]));

  write('\n7. What the run cost');
  const cache = sts.cache.stats();
  const stsCalls = server.callCount();
  write(
    row(
      ['STS', 8],
      [`${stsCalls} calls: AssumeRole ${server.callCount('AssumeRole')}, GetCallerIdentity ${server.callCount('GetCallerIdentity')}`, 0],
    ),
  );
  write(row(['cache', 8], [`${cache.size} entries, ${cache.hits} hits, ${cache.misses} misses, ${cache.refreshFailures} failed fetch`, 0]));
  write(row(['clients', 8], [`${clients.size} S3 clients in the pool`, 0]));
  write(row(['events', 8], [`${stsCallEvents} sts-call events on sts.events$`, 0]));
  const cacheAssumeRoles = server.callCount('AssumeRole') - onboardingCalls.assumeRole;
  write('\nIn plain words:');
  [
    `- STS answered ${stsCalls} calls in all (the local STS counted them). AssumeRole gets a customer's temporary keys; GetCallerIdentity asks "who am I?".`,
    `- Onboarding made ${onboardingCalls.assumeRole} AssumeRole and ${onboardingCalls.getCallerIdentity} GetCallerIdentity calls: trustPrincipal asks who the platform is, and validateAccess asks STS itself, never the cache — it assumes the role, checks the account it landed in, and sends a wrong ExternalId to prove the role refuses it.`,
    `- The other ${cacheAssumeRoles} AssumeRole calls are the cache's misses: a role needed for the first time (a chained role also needs its hub), or refused (Hooli). ${cache.hits} other requests for keys were answered from memory (hits). The cache holds ${cache.size} roles' keys now and refreshes each before it expires.`,
    `- Serving ${served.length} S3 requests for ${new Set(served).size} customers cost ${stsCallsWhileServing} STS call${stsCallsWhileServing === 1 ? '' : 's'}: clientFor built one S3 client per customer (${clients.created}) and reused it (${clients.hits} times), signing with that customer's cached keys.`,
    `- Each STS call was also an sts-call event on sts.events$ (${stsCallEvents}): what your metrics and logs count. Expect about one AssumeRole per customer per session lifetime, not one per request.`,
  ].forEach((sentence) => wrap(sentence, 110).forEach((line, i) => write(`${i === 0 ? '' : '  '}${line}`)));

  const chainedArn = chained.assumedRoleUser?.arn;
  return {
    onboarding,
    clients,
    requestsServed: served.length,
    verified: check.ok,
    wrongExternalIdCode: wrong.ok ? undefined : wrong.error.code,
    reusedFromCache,
    signedWithTenantKeys,
    stsCallsWhileServing,
    cacheAssumeRoles,
    fanOut,
    chainedArn,
    chainedSessionMinutes: minutesLeft(chained.expiration),
    cache,
    stsCalls,
    stsCallEvents,
  };
}

if (require.main === module) {
  runDemo((line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
