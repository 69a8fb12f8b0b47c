import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A Redis for specs: one the harness runs (`managed`), or the one `REDIS_URL` names. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` for a managed server, else `REDIS_URL` as given. */
  url: string;
  /** The server's TCP port: the same across `restart()`. */
  port: number;
  /** Shuts the server down (SIGTERM) and waits for it to exit; a no-op when it is not managed or not running. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would, and waits for it to exit. Throws when not managed. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (empty) and waits until it answers PING. Throws when not managed. */
  restart(): Promise<void>;
  /** False when the server came from `REDIS_URL`: the specs then share it, so they should use distinct key prefixes. */
  managed: boolean;
}

/** How long a server may take to accept connections. */
const startTimeoutMs = 10_000;
/** How long a server may take to exit after SIGTERM before it gets SIGKILL. */
const stopTimeoutMs = 5_000;

/**
 * Whether the specs can have a Redis (synchronous, so `describe` blocks can decide): `REDIS_URL` is set, or
 * `redis-server --version` runs.
 */
export function redisAvailability(): { available: true } | { available: false; reason: string } {
  if (process.env.REDIS_URL) return { available: true };
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 5_000 });
  if (probe.error) {
    const missing = (probe.error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      available: false,
      reason: `REDIS_URL is not set and ${missing ? 'redis-server is not on PATH' : `redis-server does not run (${probe.error.message})`}`,
    };
  }
  if (probe.status !== 0)
    return { available: false, reason: `REDIS_URL is not set and redis-server --version failed (exit ${probe.status ?? probe.signal})` };
  return { available: true };
}

/**
 * Starts a `redis-server` of its own on a free loopback port (no persistence) and resolves once it answers PING; or,
 * when `REDIS_URL` is set, resolves to that server, unmanaged.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const external = process.env.REDIS_URL;
  if (external) return unmanaged(external);
  const { port, child } = await spawnOnFreePort(serverArgs);
  return managed(port, child);
}

/** Spawns a redis-server (`argsFor` its port) on a free loopback port, once it is ready. */
async function spawnOnFreePort(argsFor: (port: number) => string[], readyLine?: string): Promise<{ port: number; child: ChildProcess }> {
  // Another process may take the free port before redis-server binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, child: await spawnReady(port, argsFor(port), readyLine) };
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

/** A plain server's arguments: loopback only, no persistence. */
function serverArgs(port: number): string[] {
  return ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
}

/**
 * A `describe` block with one Redis for its specs: started before them, stopped after them (after the body's own
 * `afterAll` hooks, so clients can still quit). `body` gets a getter for the server, usable in its hooks and tests
 * (its `beforeAll` hooks run once the server answers).
 * Without Redis, the block fails under `CI=true`, and is otherwise skipped with a notice on stderr.
 */
export function describeWithRedis(title: string, body: (server: () => RedisServer) => void): void {
  const availability = redisAvailability();
  if (!availability.available) {
    if (process.env.CI === 'true') {
      describe(title, () => {
        it('has a Redis to run against', () => {
          throw new Error(`CI needs redis-server: ${availability.reason}`);
        });
      });
    } else {
      noticeSkip(availability.reason);
      describe.skip(`${title} (skipped: no redis-server on PATH and no REDIS_URL)`, () => body(notStarted));
    }
    return;
  }
  describe(title, () => {
    let current: RedisServer | undefined;
    beforeAll(async () => {
      current = await startRedisServer();
    });
    body(() => current ?? notStarted());
    afterAll(async () => {
      await current?.stop();
    });
  });
}

function notStarted(): never {
  throw new Error('the Redis server is not running (it starts in beforeAll)');
}

let noticed = false;

/** Says once per spec file (each has its own module registry) that Redis specs are skipped, and why. */
function noticeSkip(reason: string): void {
  if (noticed) return;
  noticed = true;
  const file = expect.getState().testPath ?? 'a spec file';
  process.stderr.write(`\nNOTICE: skipping the Redis specs of ${file}: ${reason}. Install redis-server or set REDIS_URL to run them.\n\n`);
}

function unmanaged(url: string): RedisServer {
  const refuse = async (): Promise<never> => {
    throw new Error(`the Redis at REDIS_URL (${url}) is not managed by the specs: it cannot be killed or restarted`);
  };
  return { url, port: Number(new URL(url).port || 6379), managed: false, stop: async () => undefined, kill: refuse, restart: refuse };
}

function managed(port: number, first: ChildProcess): RedisServer {
  let child: ChildProcess | undefined = first;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running) await exit(running, signal);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    managed: true,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      child = await spawnReady(port, serverArgs(port));
    },
  };
}

/** redis-server exited at start because its port was taken. */
class PortTaken extends Error {}

/**
 * Spawns `redis-server args` listening on `port`; resolves once its output shows `readyLine` and it answers PING, with
 * its output no longer read (no open handles).
 */
async function spawnReady(port: number, args: string[], readyLine = 'Ready to accept connections'): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Should the spec process end first, the server ends with it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  // The output tells that this server (not another process that took the port meanwhile) listens, or why it failed.
  let output = '';
  let listening = false;
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4_000);
    listening ||= output.includes(readyLine);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const deadline = performance.now() + startTimeoutMs;
  try {
    for (;;) {
      if (spawnError) throw new Error(`redis-server did not start: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        const why = `redis-server exited at start (${child.exitCode ?? child.signalCode}):\n${output}`;
        throw /already in use/i.test(output) ? new PortTaken(why) : new Error(why);
      }
      if (listening && (await answersPing(port))) break;
      if (performance.now() > deadline)
        throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } catch (error) {
    await exit(child, 'SIGKILL');
    throw error;
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
  return child;
}

/** Signals the process (unless it has exited) and waits for it to exit; SIGKILL after `stopTimeoutMs`. */
async function exit(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), stopTimeoutMs)));
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** A loopback port no one listens on (now). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis on the loopback `port` answers a raw `PING` with `+PONG` (within 1 s). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => done(false), 1_000);
    function done(answered: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    }
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** A loopback address of a Redis process the specs run. */
export interface RedisNodeAddress {
  host: '127.0.0.1';
  port: number;
}

/** A Redis Cluster of masters only (no replicas) that the specs run. */
export interface RedisClusterServers {
  /** Every master, each serving a third (for three) of the hash slots. */
  nodes: RedisNodeAddress[];
  /** Stops every node and removes their cluster config files. */
  stop(): Promise<void>;
}

/** A master, its replica and one Sentinel watching them, that the specs run. */
export interface RedisSentinelServers {
  /** The name the Sentinel monitors the master by. */
  masterName: string;
  sentinels: RedisNodeAddress[];
  /** The port of the master as the Sentinel names it now. */
  masterPort(): Promise<number>;
  /**
   * Kills the master (SIGKILL, as a crash would) and resolves once the Sentinel has promoted the replica and the
   * replica answers as a master.
   */
  failover(): Promise<void>;
  /** Stops every process and removes the Sentinel's config file. */
  stop(): Promise<void>;
}

const run = promisify(execFile);
/** How long a cluster may take to agree on its slots, and a Sentinel to see the replica or promote it. */
const topologyTimeoutMs = 30_000;

/** `redis-cli -p port args…`: the reply as text. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5_000 });
  return stdout;
}

/** Polls `probe` until it holds; throws `what` after `topologyTimeoutMs`. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + topologyTimeoutMs;
  while (!(await probe().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`${what} within ${topologyTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Stops the children (SIGTERM, then SIGKILL if late) and removes `dir`. */
async function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(children.splice(0).map((child) => exit(child, 'SIGTERM')));
  await rm(dir, { recursive: true, force: true });
}

/**
 * Starts `size` redis-servers with `--cluster-enabled yes` on free loopback ports, joins them with
 * `redis-cli --cluster create` (no replicas), and resolves once every node says `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<RedisClusterServers> {
  const dir = await mkdtemp(join(tmpdir(), 'sts-redis-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: RedisNodeAddress[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const clusterArgs = (port: number) => [
        ...serverArgs(port),
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
      ];
      const { port, child } = await spawnOnFreePort(clusterArgs);
      children.push(child);
      nodes.push({ host: '127.0.0.1', port });
    }
    const addresses = nodes.map(({ host, port }) => `${host}:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: topologyTimeoutMs,
    });
    for (const { port } of nodes)
      await until(`the cluster node on ${port} did not say cluster_state:ok`, async () =>
        (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'),
      );
  } catch (error) {
    await stopAll(children, dir);
    throw error;
  }
  return { nodes, stop: () => stopAll(children, dir) };
}

/**
 * Starts a master, a replica of it, and a Sentinel (quorum 1, master down after 1 s) on free loopback ports, and
 * resolves once the replica is in sync and the Sentinel knows it.
 */
export async function startRedisSentinel(): Promise<RedisSentinelServers> {
  const masterName = 'stsmaster';
  const dir = await mkdtemp(join(tmpdir(), 'sts-redis-sentinel-'));
  const children: ChildProcess[] = [];
  const servers = new Map<number, ChildProcess>();
  const sentinels: RedisNodeAddress[] = [];
  const masterPort = async () => Number((await cli(sentinels[0].port, 'sentinel', 'get-master-addr-by-name', masterName)).split('\n')[1]);
  try {
    // In a directory of their own: a replica writes the master's snapshot to disk as it syncs.
    const master = await spawnOnFreePort((port) => [...serverArgs(port), '--dir', dir]);
    const replica = await spawnOnFreePort((port) => [...serverArgs(port), '--dir', dir, '--replicaof', '127.0.0.1', String(master.port)]);
    for (const { port, child } of [master, replica]) {
      servers.set(port, child);
      children.push(child);
    }
    await until('the replica did not sync with its master', async () =>
      (await cli(replica.port, 'info', 'replication')).includes('master_link_status:up'),
    );
    const sentinel = await spawnOnFreePort((port) => {
      const config = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file as it learns, so it gets a file of its own (written before it starts).
      const rules = [
        `monitor ${masterName} 127.0.0.1 ${master.port} 1`,
        `down-after-milliseconds ${masterName} 1000`,
        `failover-timeout ${masterName} 10000`,
      ];
      writeFileSync(config, rules.map((rule) => `sentinel ${rule}\n`).join(''));
      return [config, '--sentinel', '--bind', '127.0.0.1', '--port', String(port)];
    }, '+monitor master');
    children.push(sentinel.child);
    sentinels.push({ host: '127.0.0.1', port: sentinel.port });
    await until('the Sentinel did not see the replica', async () =>
      (await cli(sentinel.port, 'sentinel', 'replicas', masterName)).includes(String(replica.port)),
    );
  } catch (error) {
    await stopAll(children, dir);
    throw error;
  }
  return {
    masterName,
    sentinels,
    masterPort,
    async failover() {
      const old = await masterPort();
      await exit(servers.get(old)!, 'SIGKILL');
      await until('the Sentinel did not promote the replica', async () => {
        const now = await masterPort();
        return now !== old && (await cli(now, 'role')).startsWith('master');
      });
    },
    stop: () => stopAll(children, dir),
  };
}

/**
 * Whether the specs can run Redis processes of their own (a Cluster, a Sentinel): `redis-server` and `redis-cli` run.
 * A `REDIS_URL` does not do: such topologies are started, not shared.
 */
export function redisProcessesAvailability(): { available: true } | { available: false; reason: string } {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 5_000 });
    if (probe.error || probe.status !== 0)
      return { available: false, reason: `${binary} does not run (${probe.error?.message ?? `exit ${probe.status}`})` };
  }
  return { available: true };
}

/**
 * A `describe` block whose specs start Redis processes of their own (`startRedisCluster`, `startRedisSentinel`).
 * Without redis-server and redis-cli it fails under `CI=true`, and is otherwise skipped with a notice on stderr.
 */
export function describeWithRedisProcesses(title: string, body: () => void): void {
  const availability = redisProcessesAvailability();
  if (availability.available) return describe(title, body);
  if (process.env.CI === 'true') {
    return describe(title, () => {
      it('has redis-server and redis-cli to run', () => {
        throw new Error(`CI needs redis-server and redis-cli: ${availability.reason}`);
      });
    });
  }
  noticeSkip(availability.reason);
  describe.skip(`${title} (skipped: no redis-server or redis-cli on PATH)`, body);
}
