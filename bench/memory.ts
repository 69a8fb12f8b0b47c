import { Readable } from 'node:stream';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { StsService } from '../src';
import { resolveStsConfig } from '../src/config/server-aws-sts.config';
import { BASE_CREDENTIALS, heapAfterGc, printTable } from './support';

const DEFAULT_ENTRIES = 10_000;
/** The README's and `cache.maxEntries`' figure must stay under this (issue 20). */
const TARGET_BYTES = 2_000;
/**
 * Entries stored and cleared before measuring. Two used to warm the paths: V8 then compiled and optimised them during
 * the measure, and its code and feedback (~150 B per entry at 10,000, ~15 B at 100,000) were counted as entries'.
 */
const WARM_UP_ENTRIES = 2_000;

/** An AssumeRole answer as STS sends it over the wire (XML, a session token of about a kilobyte), numbered `serial`. */
function stsXml(roleArn: string, serial: number): string {
  const account = roleArn.split(':')[4];
  const id = String(serial).padStart(12, '0');
  const expiration = new Date(Date.now() + 3_600_000).toISOString();
  return (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
    `<AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:s-${id}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/TenantAccess/s-${id}</Arn></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>ASIA${id}EXAMPLE</AccessKeyId><SecretAccessKey>${'wJalrXUtnFEMI/K7MDENG/bPxRfiCY'}${id.slice(0, 10)}</SecretAccessKey>` +
    `<SessionToken>IQoJb3JpZ2luX2Vj${'A'.repeat(880)}${id}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
    `<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-${id}</RequestId></ResponseMetadata></AssumeRoleResponse>`
  );
}

/** A role ARN and ExternalId per tenant, built at run time as an app reads them from its database. */
const tenantRequest = (tenant: number) => ({
  roleArn: `arn:aws:iam::${String(100_000_000_000 + tenant)}:role/TenantAccess`,
  externalId: `tenant-${tenant}-${(tenant * 2_654_435_761).toString(36)}-external-id`,
});

/**
 * Heap per cached entry: a real STSClient whose request handler answers STS's XML, so the credentials are the SDK's
 * own parse. Each request is built when it is asked, as a request handler builds it from the tenant's row, and not
 * kept: the growth is what the cache keeps, the request strings it holds counted (unique per tenant, made during
 * the measure). Requests built all before the first call and kept by the bench (as it did before) add the bench's
 * own objects, and V8's cons-string wrappers of template strings promoted before they were first flattened: ~110 B.
 * `npm run bench -- memory 100000` measures at another count.
 */
export async function memoryPerEntry(entries = DEFAULT_ENTRIES): Promise<void> {
  let serial = 0;
  const requestHandler = {
    handle: async (request: { body?: string }) => {
      const roleArn = decodeURIComponent(/RoleArn=([^&]+)/.exec(String(request.body))![1]);
      const body = Readable.from([Buffer.from(stsXml(roleArn, ++serial))]);
      return { response: { statusCode: 200, headers: { 'content-type': 'text/xml' }, body } };
    },
  };
  const client = new STSClient({ region: 'us-east-1', credentials: BASE_CREDENTIALS, requestHandler, maxAttempts: 1 });
  const service = new StsService(
    resolveStsConfig({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, cache: { maxEntries: entries } }),
    client,
  );
  // Warm the code paths before measuring, until V8 has compiled them: the code is made once, whatever the count.
  const warmUp = Math.min(WARM_UP_ENTRIES, entries);
  for (let tenant = 1; tenant <= warmUp; tenant++) await service.getCredentials(tenantRequest(entries + tenant));
  service.cache.clear();
  const before = heapAfterGc();
  for (let tenant = 0; tenant < entries; tenant++) await service.getCredentials(tenantRequest(tenant));
  const after = heapAfterGc();
  const size = service.cache.stats().size;
  const perEntry = (after - before) / entries;
  // The same credentials in a plain Map, by the same requests' strings: what the cache adds over the data it holds.
  const plainBefore = heapAfterGc();
  const plain = new Map<string, unknown>();
  for (let tenant = entries + 10; tenant < 2 * entries + 10; tenant++) {
    const request = tenantRequest(tenant);
    const output = await client.send(
      new AssumeRoleCommand({ RoleArn: request.roleArn, RoleSessionName: 'bench', ExternalId: request.externalId }),
    );
    plain.set(`${request.roleArn}\n${request.externalId}`, output.Credentials);
  }
  const plainPerEntry = (heapAfterGc() - plainBefore) / entries;
  printTable(
    `3. Memory per cached entry at ${entries.toLocaleString('en-US')} entries (heap after GC; SDK-parsed STS XML answers; requests built per call, the strings the cache keeps counted)`,
    ['entries', 'heap growth', 'bytes per entry', 'target', 'same credentials in a plain Map', 'ratio to the plain Map'],
    [
      [
        size,
        `${((after - before) / 1024 / 1024).toFixed(1)} MiB`,
        Math.round(perEntry),
        `≤ ${TARGET_BYTES.toLocaleString('en-US')} B`,
        `${Math.round(plainPerEntry)} B`,
        `${(perEntry / plainPerEntry).toFixed(2)}×`,
      ],
    ],
  );
  service.onModuleDestroy();
  client.destroy();
  if (plain.size !== entries) throw new Error('unreachable: keeps the plain Map alive through its measurement');
}
