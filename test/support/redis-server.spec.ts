import Redis from 'ioredis';
import { describeWithRedis } from './redis-server';

// The harness of the specs that need a real Redis: a server of their own that a spec can crash and bring back.
describeWithRedis('the Redis of the specs', (server) => {
  const clients: Redis[] = [];

  /** A client that fails commands at once while the server is down, instead of queueing them. */
  function connect(): Redis {
    const client = new Redis(server().url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => undefined); // connection errors are expected here: the commands report them
    clients.push(client);
    return client;
  }

  // Each test's clients end with it: one left reconnecting to a killed server would never emit 'end'.
  afterEach(async () => {
    await Promise.all(
      clients.splice(0).map(async (client) => {
        if (client.status === 'end') return;
        const ended = client.status === 'reconnecting' ? undefined : new Promise((resolve) => client.once('end', resolve));
        client.disconnect();
        await ended;
      }),
    );
  });

  it('answers commands', async () => {
    const client = connect();
    await client.connect();
    await client.set('harness:greeting', 'hello');
    expect(await client.get('harness:greeting')).toBe('hello');
  });

  // A REDIS_URL server is not the specs' to crash.
  const crashable = process.env.REDIS_URL ? it.skip : it;

  crashable('fails commands once killed, and answers again on the same port once restarted', async () => {
    const client = connect();
    await client.connect();
    const { port, url } = server();

    await server().kill();
    await expect(client.get('harness:greeting')).rejects.toThrow();

    const reconnected = new Promise((resolve) => client.once('ready', resolve));
    await server().restart();
    expect(server().port).toBe(port);
    const fresh = connect();
    await fresh.connect();
    expect(fresh.options.port).toBe(port);
    await fresh.set('harness:after-restart', 'yes');
    expect(await fresh.get('harness:after-restart')).toBe('yes');
    expect(server().url).toBe(url);

    // A client that lived through the crash reconnects by itself.
    await reconnected;
    expect(await client.get('harness:after-restart')).toBe('yes');
  });
});
