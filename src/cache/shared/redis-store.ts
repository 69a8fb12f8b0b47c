/**
 * What the shared tier asks of Redis, whatever client the app runs: a handful of commands and one subscription.
 * Adapters turn the app's own client into one (`toRedisStore`); the tier never sees the client itself.
 * No command names two keys unless they share a hash slot, so Redis Cluster works.
 */
export interface RedisStore {
  /** `GET key`: the value, or null when there is none. */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ms [NX]`: true when Redis stored the value (false when NX found the key taken). */
  set(key: string, value: string, options: { px: number; nx?: boolean }): Promise<boolean>;
  /** `DEL key`: how many keys were deleted. */
  del(key: string): Promise<number>;
  /** `EVAL script numkeys keys… args…`: the script's answer. In a Cluster every key must hash to one slot. */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** `PUBLISH channel message`. */
  publish(channel: string, message: string): Promise<unknown>;
  /**
   * Opens the tier's one connection of its own and subscribes it to `channel`. `ready` is called whenever the
   * subscription is (re)established, so the tier can catch up on what it may have missed while it was not.
   */
  subscribe(channel: string, listener: StoreSubscriptionListener): StoreSubscription;
}

/** What a subscription tells the tier. */
export interface StoreSubscriptionListener {
  /** A message published on the channel. */
  message(message: string): void;
  /** The subscription is (again) in place. */
  ready(): void;
}

/** The tier's own subscription connection, closed on module destroy (the app's client stays open). */
export interface StoreSubscription {
  close(): void;
}
