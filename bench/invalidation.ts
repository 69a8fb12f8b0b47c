import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createService, printTable, stsAnswer } from './support';

const ENTRIES = 100_000;

/**
 * The longest time the event loop was held while `work` ran (ms): a probe re-arms itself on every turn
 * (`setImmediate`) and keeps the largest gap between two of its runs.
 */
export async function longestBlock(work: () => unknown): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let probing = true;
  const probe = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (probing) setImmediate(probe);
  };
  setImmediate(probe);
  await new Promise((resolve) => setImmediate(resolve));
  last = performance.now();
  await work();
  await new Promise((resolve) => setImmediate(resolve));
  probing = false;
  return longest;
}

const role = (tenant: number) => `arn:aws:iam::${String(100_000_000_000 + (tenant % 1000)).padStart(12, '0')}:role/Tenant${tenant}`;

/** invalidateWhere (a predicate selecting one tenant in ten) and clear over 100,000 cached entries. */
export async function invalidation(): Promise<void> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => stsAnswer(input.RoleArn, 3600, 1));
  const service = createService({ cache: { maxEntries: ENTRIES }, metrics: false });
  const fill = async () => {
    for (let tenant = 0; tenant < ENTRIES; tenant += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => service.getCredentials({ roleArn: role(tenant + i), externalId: 'external-id-1' })));
    }
  };
  const started = performance.now();
  await fill();
  const fillMs = performance.now() - started;
  let dropped = 0;
  const someWhere = await longestBlock(async () => (dropped = await service.cache.invalidateWhere((entry) => entry.roleArn.endsWith('7'))));
  await fill();
  const allWhere = await longestBlock(async () => service.cache.invalidateWhere(() => true));
  await fill();
  const clear = await longestBlock(() => service.cache.clear());
  sts.restore();
  service.onModuleDestroy();
  printTable(`Invalidation at ${ENTRIES.toLocaleString('en-US')} entries (filled in ${Math.round(fillMs)} ms; longest event-loop block)`, ['call', 'longest block'], [
    [`invalidateWhere selecting ${dropped.toLocaleString('en-US')}`, `${longestFixed(someWhere)} ms`],
    ['invalidateWhere selecting all', `${longestFixed(allWhere)} ms`],
    ['clear()', `${longestFixed(clear)} ms`],
  ]);
}

const longestFixed = (ms: number) => ms.toFixed(1);
