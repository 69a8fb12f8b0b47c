import type { RedisStore, StoreSubscription, StoreSubscriptionListener } from './redis-store.js';

/**
 * The commands the shared tier sends, as ioredis and iovalkey (clients and `Cluster`) have them: the shape an app's
 * ioredis client is recognised by.
 */
export interface SharedRedisClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number): Promise<unknown>;
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number, setMode: 'NX'): Promise<unknown>;
  del(key: string): Promise<number>;
  eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  /** A new connection with the same options: the shared tier's only one of its own, for its subscription. */
  duplicate(): SharedRedisSubscriber;
}

/** The connection the shared tier subscribes on (from `duplicate()`), closed on module destroy. */
export interface SharedRedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Emitted when the connection is (re)established. */
  on(event: 'ready', listener: () => void): unknown;
  disconnect(): void;
}

const IOREDIS_COMMANDS = ['get', 'set', 'del', 'eval', 'publish', 'duplicate'] as const;

/** Whether `client` has the ioredis / iovalkey commands the tier sends. */
export function isIoredisLike(client: unknown): client is SharedRedisClient {
  return (
    typeof client === 'object' &&
    client !== null &&
    IOREDIS_COMMANDS.every((command) => typeof (client as Record<string, unknown>)[command] === 'function')
  );
}

/** The tier's view of an ioredis or iovalkey client (a `Cluster` too). */
export class IoredisStore implements RedisStore {
  constructor(private readonly client: SharedRedisClient) {}

  get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, { px, nx = false }: { px: number; nx?: boolean }): Promise<boolean> {
    const answer = nx ? await this.client.set(key, value, 'PX', px, 'NX') : await this.client.set(key, value, 'PX', px);
    return answer === 'OK';
  }

  del(key: string): Promise<number> {
    return this.client.del(key);
  }

  eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.client.eval(script, keys.length, ...keys, ...args);
  }

  publish(channel: string, message: string): Promise<unknown> {
    return this.client.publish(channel, message);
  }

  subscribe(channel: string, listener: StoreSubscriptionListener): StoreSubscription {
    const subscriber = this.#subscriber();
    subscriber.on('error', () => undefined); // outages are reported by the commands, once each
    subscriber.on('message', (from, message) => {
      if (from === channel && typeof message === 'string') listener.message(message);
    });
    // Subscribed again whenever the connection is (re)established: a client that refuses commands before it is
    // connected (enableOfflineQueue: false) would otherwise never hear the fleet. The tier hears of it once per
    // connection, though the first one may see two SUBSCRIBEs answered (the one sent at once, the one on 'ready').
    let told = false;
    const subscribe = () =>
      void subscriber.subscribe(channel).then(
        () => {
          if (!told) listener.ready();
          told = true;
        },
        () => undefined,
      );
    subscriber.on('ready', () => {
      told = false;
      subscribe();
    });
    subscribe();
    return { close: () => subscriber.disconnect() };
  }

  /**
   * The subscription's own connection. A plain client's is told not to resubscribe by itself: this adapter
   * subscribes on every 'ready', and ioredis's own SUBSCRIBE after a reconnect is a promise nobody awaits — closed
   * right then (module destroy), it would reject unhandled. (A Cluster's duplicate takes startup nodes first.)
   */
  #subscriber(): SharedRedisSubscriber {
    if ((this.client as { isCluster?: unknown }).isCluster === true) return this.client.duplicate();
    return (this.client.duplicate as (override: { autoResubscribe: boolean }) => SharedRedisSubscriber).call(this.client, {
      autoResubscribe: false,
    });
  }
}
