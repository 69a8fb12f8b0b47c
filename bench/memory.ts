import type { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { StsService } from '../src';
import { resolveStsConfig } from '../src/config/server-aws-sts.config';
import { BASE_CREDENTIALS, heapAfterGc, printTable, stsAnswer, tenantRole } from './support';

const ENTRIES = 10_000;

/** Heap per cached entry at 10,000 entries, STS answers sized like real ones (~1 KB session token). */
export async function memoryPerEntry(): Promise<void> {
  // A bare stand-in for the client: aws-sdk-client-mock records every call, which would be counted as cache memory.
  let serial = 0;
  const client = {
    send: async (command: AssumeRoleCommand) => stsAnswer(command.input.RoleArn as string, 3600, ++serial),
    destroy: () => undefined,
  };
  const service = new StsService(
    resolveStsConfig({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, cache: { maxEntries: ENTRIES } }),
    client as unknown as STSClient,
  );
  const requests = Array.from({ length: ENTRIES }, (_, tenant) => ({
    roleArn: tenantRole(tenant),
    externalId: `tenant-${tenant}-external-id`,
  }));
  await service.getCredentials({ roleArn: tenantRole(ENTRIES + 1) }); // warm the code paths before measuring
  const before = heapAfterGc();
  for (const request of requests) await service.getCredentials(request);
  const after = heapAfterGc();
  const size = service.cache.stats().size;
  const perEntry = (after - before) / ENTRIES;
  printTable(
    `3. Memory per cached entry at ${ENTRIES.toLocaleString('en-US')} entries (heap after GC, credentials, entry, key and index included)`,
    ['entries', 'heap growth', 'bytes per entry', 'of the 4 KB target'],
    [[size, `${((after - before) / 1024 / 1024).toFixed(1)} MiB`, Math.round(perEntry), `${((perEntry / 4096) * 100).toFixed(0)}%`]],
  );
  service.onModuleDestroy();
  if (requests.length !== ENTRIES) throw new Error('unreachable: keeps requests alive through the measurement');
}
