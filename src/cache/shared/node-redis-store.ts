import type { RedisStore, StoreSubscription, StoreSubscriptionListener } from './redis-store.js';

/**
 * A node-redis client (`createClient()` of the `redis` package, v5 or v6), connected by the app: the shape it is
 * recognised by. The tier sends raw commands (`sendCommand`), so it works whatever the client's options.
 */
export interface SharedNodeRedisClient {
  /** True once `connect()` was called (and until the client is closed). */
  readonly isOpen: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  /** A new client with the same options: the shared tier's only connection of its own, for its subscription. */
  duplicate(): SharedNodeRedisSubscriber;
}

/** A node-redis cluster client (`createCluster()` of the `redis` package, v5 or v6), connected by the app. */
export interface SharedNodeRedisCluster {
  readonly isOpen: boolean;
  /** Sends `args` to the master of `firstKey`'s slot (any master without a key). */
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  /** Present on a cluster client only: how it is told from a single one. */
  getSlotRandomNode(slot: number): unknown;
  duplicate(): SharedNodeRedisSubscriber;
}

/** The connection the shared tier subscribes on (from `duplicate()`): the tier connects it, and destroys it on close. */
export interface SharedNodeRedisSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>;
  /** `ready`: the client (re)connected, its subscriptions renewed; `node-ready`: a cluster connected to a node. */
  on(event: 'ready' | 'node-ready' | 'error', listener: () => void): unknown;
  /** A cluster's connection for pub/sub, once it has one: it reconnects (and resubscribes) on its own. */
  readonly pubSubNode?: { client: { on(event: 'ready', listener: () => void): unknown } };
  destroy(): void;
}

const has = (value: unknown, name: string, type: 'function' | 'boolean') => typeof (value as Record<string, unknown>)[name] === type;

/** Whether `client` is shaped like a node-redis client of any version or kind: never to be taken for ioredis. */
export function looksLikeNodeRedis(client: unknown): client is object {
  return typeof client === 'object' && client !== null && has(client, 'isOpen', 'boolean') && has(client, 'sendCommand', 'function');
}

/** Whether `client` is a node-redis v5/v6 client or cluster client (`destroy()` came with v5; a Sentinel is neither). */
export function isNodeRedisLike(client: unknown): client is SharedNodeRedisClient | SharedNodeRedisCluster {
  if (!looksLikeNodeRedis(client) || isNodeRedisSentinel(client)) return false;
  return has(client, 'duplicate', 'function') && has(client, 'destroy', 'function');
}

/** Whether `client` is a node-redis Sentinel client (`createSentinel()`), which the tier does not support. */
export function isNodeRedisSentinel(client: object): boolean {
  return has(client, 'getSentinelNode', 'function') && has(client, 'sendCommand', 'function');
}

function isCluster(client: SharedNodeRedisClient | SharedNodeRedisCluster): client is SharedNodeRedisCluster {
  return has(client, 'getSlotRandomNode', 'function');
}

/** A reply as text: a client whose type mapping turns strings into Buffers answers as the tier expects anyway. */
const textOf = (reply: unknown): unknown => (Buffer.isBuffer(reply) ? reply.toString('utf8') : reply);

/** The tier's view of a node-redis client or cluster client (v5, v6): raw commands, so options never matter. */
export class NodeRedisStore implements RedisStore {
  /** Sends a command; a cluster routes it by `firstKey`'s slot. */
  readonly #send: (firstKey: string | undefined, args: string[]) => Promise<unknown>;

  constructor(private readonly client: SharedNodeRedisClient | SharedNodeRedisCluster) {
    const send = isCluster(client)
      ? (firstKey: string | undefined, args: string[]) => client.sendCommand(firstKey, false, args)
      : (_firstKey: unknown, args: string[]) => client.sendCommand(args);
    this.#send = async (firstKey, args) => {
      // A client the app never connected: node-redis says only 'Error', so the outage warning names the cause.
      if (!client.isOpen)
        throw Object.assign(new Error('the node-redis client is not open: connect() it first'), { code: 'CLIENT_CLOSED' });
      return send(firstKey, args);
    };
  }

  async get(key: string): Promise<string | null> {
    return textOf(await this.#send(key, ['GET', key])) as string | null;
  }

  async set(key: string, value: string, { px, nx = false }: { px: number; nx?: boolean }): Promise<boolean> {
    const args = ['SET', key, value, 'PX', String(px), ...(nx ? ['NX'] : [])];
    return textOf(await this.#send(key, args)) === 'OK';
  }

  async del(key: string): Promise<number> {
    return Number(await this.#send(key, ['DEL', key]));
  }

  /** In a cluster, sent to the master of the first key's slot (every key must hash to that slot). */
  eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.#send(keys[0], ['EVAL', script, String(keys.length), ...keys, ...args]);
  }

  /** In a cluster, any master: Redis Cluster delivers a PUBLISH to the subscribers on every node. */
  publish(channel: string, message: string): Promise<unknown> {
    return this.#send(undefined, ['PUBLISH', channel, message]);
  }

  subscribe(channel: string, listener: StoreSubscriptionListener): StoreSubscription {
    return new NodeRedisSubscription(this.client.duplicate(), channel, listener);
  }
}

/** After a failed connect the subscription tries again after 1 s, 2 s, 4 s… up to this (ms). */
const MAX_RETRY_MS = 30_000;

/**
 * The tier's subscription on a `duplicate()` of the app's node-redis client, which (unlike ioredis) the tier must
 * connect itself. node-redis renews the subscription on every reconnect before it says `ready` (a cluster, on its
 * pub/sub node or on a new one); each time, the tier is told it is in place. A connect that fails (Redis down at
 * start, a cluster none of whose nodes answer) is tried again with a backoff until it succeeds or is closed.
 */
class NodeRedisSubscription implements StoreSubscription {
  #subscribed = false;
  #closed = false;
  #failures = 0;
  #retry?: NodeJS.Timeout;
  /** The pub/sub connections of a cluster whose `ready` is listened to already. */
  readonly #watched = new WeakSet<object>();

  constructor(
    private readonly connection: SharedNodeRedisSubscriber,
    private readonly channel: string,
    private readonly listener: StoreSubscriptionListener,
  ) {
    connection.on('error', () => undefined); // outages are reported by the commands, once each
    connection.on('ready', () => this.#renewed());
    connection.on('node-ready', () => this.#renewed());
    this.#open();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#destroy();
  }

  #open(): void {
    const heard = (message: string, from: string) => from === this.channel && typeof message === 'string' && this.listener.message(message);
    this.connection
      .connect()
      .then(() => this.connection.subscribe(this.channel, heard))
      .then(
        () => {
          if (this.#closed) return;
          this.#failures = 0;
          this.#subscribed = true;
          this.#renewed();
        },
        () => {
          if (this.#closed) return;
          this.#destroy();
          const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** this.#failures++);
          this.#retry = setTimeout(() => this.#open(), delay);
          this.#retry.unref();
        },
      );
  }

  /** Tells the tier the subscription is in place, and follows a cluster's (new) pub/sub connection. */
  #renewed(): void {
    if (!this.#subscribed || this.#closed) return;
    const pubSub = this.connection.pubSubNode?.client;
    if (pubSub !== undefined && !this.#watched.has(pubSub)) {
      this.#watched.add(pubSub);
      pubSub.on('ready', () => this.#renewed());
    }
    this.listener.ready();
  }

  #destroy(): void {
    try {
      this.connection.destroy();
    } catch {
      // not open (a connect that failed closed it already)
    }
  }
}
