import { hotHits } from './hot-hits';

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'hot') await hotHits();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
