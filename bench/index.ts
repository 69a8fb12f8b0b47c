import { hotHits } from './hot-hits';
import { memoryPerEntry } from './memory';
import { multiTenant } from './multi-tenant';

/** `npm run bench` runs all three; `npm run bench -- hot|tenants|memory` runs one. */
async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'hot') await hotHits();
  if (!only || only === 'tenants') await multiTenant();
  if (!only || only === 'memory') await memoryPerEntry();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
