import { clientsPerRequest } from './clients';
import { coldStartBound } from './cold-start';
import { fleet } from './fleet';
import { fleetScale } from './fleet-scale';
import { hotHits } from './hot-hits';
import { invalidation } from './invalidation';
import { memoryPerEntry } from './memory';
import { multiTenant } from './multi-tenant';

/**
 * `npm run bench` runs them all; `npm run bench -- hot|tenants|memory|clients|fleet|fleet-scale|invalidation|cold` runs
 * one (`fleet-scale --quick`: three virtual hours instead of a day).
 */
async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'hot') await hotHits();
  if (!only || only === 'tenants') await multiTenant();
  if (!only || only === 'memory') await memoryPerEntry(only === 'memory' && process.argv[3] ? Number(process.argv[3]) : undefined);
  if (!only || only === 'clients') await clientsPerRequest();
  if (!only || only === 'fleet') await fleet();
  if (!only || only === 'fleet-scale') await fleetScale();
  if (!only || only === 'invalidation') await invalidation();
  if (!only || only === 'cold') await coldStartBound();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
