/**
 * The node-redis adapter's subscription where a real Redis cannot easily put it: a connect that fails (a cluster none
 * of whose nodes answer at start), a cluster whose pub/sub connection reconnects on its own, a close while a retry
 * waits. A hand-made connection the spec drives, on a hand-moved clock.
 */
import { EventEmitter } from 'node:events';
import { NodeRedisStore, type SharedNodeRedisCluster, type SharedNodeRedisSubscriber } from '../../../../src/cache/shared/node-redis-store';

/** A `duplicate()` whose connect fails `failures` times, then succeeds. */
class FakeConnection extends EventEmitter implements SharedNodeRedisSubscriber {
  connects = 0;
  destroyed = 0;
  listener?: (message: string, channel: string) => unknown;
  pubSubNode?: { client: EventEmitter };

  constructor(private failures: number) {
    super();
  }

  async connect(): Promise<unknown> {
    this.connects++;
    if (this.failures-- > 0) throw new Error('None of the root nodes is available');
    return this;
  }

  async subscribe(_channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown> {
    this.listener = listener;
    this.pubSubNode = { client: new EventEmitter() };
    return undefined;
  }

  destroy(): void {
    this.destroyed++;
  }
}

function cluster(connection: FakeConnection): SharedNodeRedisCluster {
  return { isOpen: true, sendCommand: async () => 'OK', getSlotRandomNode: () => undefined, duplicate: () => connection };
}

const settle = () => jest.advanceTimersByTimeAsync(0);

describe('NodeRedisStore subscription', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tries a failed connect again after 1 s, then 2 s, and tells the tier once subscribed', async () => {
    const connection = new FakeConnection(2);
    let ready = 0;
    new NodeRedisStore(cluster(connection)).subscribe('p:events', { message: () => undefined, ready: () => ready++ });
    await settle();
    expect([connection.connects, ready]).toEqual([1, 0]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect([connection.connects, ready]).toEqual([2, 0]);
    await jest.advanceTimersByTimeAsync(1_999);
    expect(connection.connects).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect([connection.connects, ready]).toEqual([3, 1]);
  });

  it('hears only its channel, and tells the tier again when the pub/sub connection or a new node is ready', async () => {
    const connection = new FakeConnection(0);
    const heard: string[] = [];
    let ready = 0;
    new NodeRedisStore(cluster(connection)).subscribe('p:events', { message: (message) => heard.push(message), ready: () => ready++ });
    await settle();
    connection.listener!('fill x y', 'p:events');
    connection.listener!('other', 'q:events');
    expect(heard).toEqual(['fill x y']);
    expect(ready).toBe(1);
    connection.pubSubNode!.client.emit('ready'); // reconnected to the same node, resubscribed by node-redis
    expect(ready).toBe(2);
    connection.pubSubNode = { client: new EventEmitter() };
    connection.emit('node-ready'); // a new pub/sub node after a rediscovery
    expect(ready).toBe(3);
    connection.pubSubNode.client.emit('ready');
    expect(ready).toBe(4);
  });

  it('close during a retry wait: no more connects, the connection destroyed, the tier never told', async () => {
    const connection = new FakeConnection(Infinity);
    let ready = 0;
    const subscription = new NodeRedisStore(cluster(connection)).subscribe('p:events', { message: () => undefined, ready: () => ready++ });
    await settle();
    subscription.close();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(connection.connects).toBe(1);
    expect(connection.destroyed).toBeGreaterThan(0);
    expect(ready).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
