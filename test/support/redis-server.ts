import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type AddressInfo } from 'node:net';

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
    return { available: false, reason: `REDIS_URL is not set and ${missing ? 'redis-server is not on PATH' : `redis-server does not run (${probe.error.message})`}` };
  }
  if (probe.status !== 0) return { available: false, reason: `REDIS_URL is not set and redis-server --version failed (exit ${probe.status ?? probe.signal})` };
  return { available: true };
}

/**
 * Starts a `redis-server` of its own on a free loopback port (no persistence) and resolves once it answers PING; or,
 * when `REDIS_URL` is set, resolves to that server, unmanaged.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const external = process.env.REDIS_URL;
  if (external) return unmanaged(external);
  // Another process may take the free port before redis-server binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return managed(port, await spawnReady(port));
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
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
      child = await spawnReady(port);
    },
  };
}

/** redis-server exited at start because its port was taken. */
class PortTaken extends Error {}

/**
 * Spawns redis-server on `port`; resolves once it says it accepts connections and answers PING, with its output no
 * longer read (no open handles).
 */
async function spawnReady(port: number): Promise<ChildProcess> {
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
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
    listening ||= output.includes('Ready to accept connections');
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
      if (performance.now() > deadline) throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms:\n${output}`);
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
