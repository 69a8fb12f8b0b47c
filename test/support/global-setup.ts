import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** What the packed package is made of: a change to any of these makes a new tarball. */
function packageInputs(): string[] {
  // Every file under src/, subfolders (src/terminus/) included.
  const sources = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1));
  return [
    'package.json',
    'package-lock.json',
    'LICENSE',
    'tsconfig.json',
    'tsconfig.build.json',
    'tsconfig.build.cjs.json',
    'tsconfig.build.esm.json',
    '.npmignore',
    'scripts/mark-module-types.cjs',
    'README.md',
    ...sources.sort(),
  ];
}

/**
 * Packs the library once per change (`npm pack`, which builds both module systems) and tells the specs where the
 * tarball is (`NESTJS_AWS_STS_TARBALL`): the package checks, the README check and the consumer apps all use it,
 * exactly as an app would get it from the registry.
 */
export default function packLibrary(): void {
  const hash = createHash('sha256');
  for (const file of packageInputs()) hash.update(file).update(readFileSync(join(root, file)));
  const cacheDir = join(tmpdir(), 'nestjs-aws-sts-packed', hash.digest('hex').slice(0, 16));
  const tarball = join(cacheDir, 'nestjs-aws-sts.tgz');
  try {
    if (!existsSync(tarball)) withPackLock(() => existsSync(tarball) || pack(cacheDir, tarball));
    process.env.NESTJS_AWS_STS_TARBALL = tarball;
  } catch (error) {
    // The specs of the package fail with this; every other spec still runs.
    const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
    process.env.NESTJS_AWS_STS_PACK_ERROR = `${message}\n${stdout}${stderr}`;
  }
}

function pack(cacheDir: string, tarball: string): void {
  const staging = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-pack-'));
  const output = execFileSync('npm', ['pack', '--silent', '--pack-destination', staging], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  mkdirSync(cacheDir, { recursive: true });
  renameSync(join(staging, output.trim().split('\n').pop() as string), tarball);
  rmSync(staging, { recursive: true, force: true });
}

/** `npm pack` rebuilds dist/ in this checkout: two jest runs at once must not build over each other. */
function withPackLock(work: () => void): void {
  const lock = join(root, 'node_modules', '.nestjs-aws-sts-pack.lock');
  const staleAfterMs = 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() - statSync(lock).mtimeMs > staleAfterMs) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // a synchronous sleep: globalSetup may block
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
