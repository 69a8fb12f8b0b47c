import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createService, printTable, stsAnswer } from './support';

const ENTRIES = 100_000;

/**
 * The longest the event loop was held while `work` ran (ms): a probe re-arms itself on every turn (`setImmediate`)
 * and keeps the largest gap between two of its runs, in wall-clock time and in the process's CPU time. On a busy
 * machine the wall-clock gap includes time the process waited for a core; the CPU gap is the work that held it.
 *
 * A full collection runs first (under `npm run bench`, which exposes `gc`). The probe is stopped (its last
 * `setImmediate` cleared) and the figures copied before returning: a probe left armed
 * ran after the caller's next synchronous work (a cache fill whose mocked STS answers only in microtasks) and wrote
 * that work's length into the figures already returned — the multi-second "gaps" once measured here.
 */
export async function longestBlock(work: () => unknown): Promise<{ wall: number; cpu: number }> {
  // The collection the previous step owes (a fill of 100,000 entries) is paid before, not charged to `work`.
  (globalThis as { gc?: () => void }).gc?.();
  const longest = { wall: 0, cpu: 0 };
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let last = { wall: performance.now(), cpu: cpuMs() };
  const probe = () => {
    const now = { wall: performance.now(), cpu: cpuMs() };
    longest.wall = Math.max(longest.wall, now.wall - last.wall);
    longest.cpu = Math.max(longest.cpu, now.cpu - last.cpu);
    last = now;
    armed = setImmediate(probe);
  };
  let armed = setImmediate(probe);
  await new Promise((resolve) => setImmediate(resolve));
  last = { wall: performance.now(), cpu: cpuMs() };
  await work();
  await new Promise((resolve) => setImmediate(resolve)); // after the probe's run that follows the work's last turn
  clearImmediate(armed);
  return { ...longest };
}

/** A block as printed: CPU time, and wall-clock time in brackets. */
export const formatBlock = ({ wall, cpu }: { wall: number; cpu: number }) => `${cpu.toFixed(1)} ms (wall ${wall.toFixed(1)} ms)`;

const role = (tenant: number) => `arn:aws:iam::${String(100_000_000_000 + (tenant % 1000)).padStart(12, '0')}:role/Tenant${tenant}`;

/** invalidateWhere (a predicate selecting one tenant in ten) and clear over 100,000 cached entries. */
export async function invalidation(): Promise<void> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => stsAnswer(input.RoleArn, 3600, 1));
  const service = createService({ cache: { maxEntries: ENTRIES }, metrics: false });
  const fill = async () => {
    for (let tenant = 0; tenant < ENTRIES; tenant += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) => service.getCredentials({ roleArn: role(tenant + i), externalId: 'external-id-1' })),
      );
    }
    // The mock records every call it answers: kept, 300,000 of them grew the heap to 0.6–1.6 GB, and the young
    // collections of that heap, not the walk, were the longest blocks measured. An app's heap holds no such history.
    sts.resetHistory();
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
  printTable(
    `Invalidation at ${ENTRIES.toLocaleString('en-US')} entries through StsService.cache (filled in ${Math.round(fillMs)} ms)`,
    ['call', 'longest event-loop block: CPU (wall)'],
    [
      [`invalidateWhere selecting ${dropped.toLocaleString('en-US')}`, formatBlock(someWhere)],
      ['invalidateWhere selecting all', formatBlock(allWhere)],
      ['clear()', formatBlock(clear)],
    ],
  );
}
