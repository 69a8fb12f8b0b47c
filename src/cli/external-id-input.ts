import { readFileSync } from 'node:fs';

/**
 * The customer's ExternalId for a command: the first line of `--external-id-file` (so it stays out of the shell's
 * history and the process list), else `STS_EXTERNAL_ID` (the module's variable). `undefined` when neither is given.
 */
export function readExternalId(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file !== undefined) return readFileSync(file, 'utf8').split(/\r?\n/)[0];
  return env.STS_EXTERNAL_ID === '' ? undefined : env.STS_EXTERNAL_ID;
}

/** An ExternalId as the command line may show it: its last four characters (none when it is short), the rest masked. */
export function maskExternalId(externalId: string): string {
  return externalId.length >= 16 ? `****${externalId.slice(-4)}` : '****';
}
