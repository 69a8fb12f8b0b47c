import { clientsPerRequest } from './clients';
import { coldStartBound } from './cold-start';
import { fleet } from './fleet';
import { hotHits } from './hot-hits';
import { memoryPerEntry } from './memory';
import { multiTenant } from './multi-tenant';

/** `npm run bench` runs them all; `npm run bench -- hot|tenants|memory|clients|fleet|cold` runs one. */
async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'hot') await hotHits();
  if (!only || only === 'tenants') await multiTenant();
  if (!only || only === 'memory') await memoryPerEntry(only === 'memory' && process.argv[3] ? Number(process.argv[3]) : undefined);
  if (!only || only === 'clients') await clientsPerRequest();
  if (!only || only === 'fleet') await fleet();
  if (!only || only === 'cold') await coldStartBound();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
