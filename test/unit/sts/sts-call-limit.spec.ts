/** StsCallLimit: at most `max` calls at once, first come first served; an aborted waiter leaves without a turn. */
import { StsCallLimit } from '../../../src/sts/sts-call-limit';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
};

describe('StsCallLimit', () => {
  it('runs at most max calls at once, the waiting ones in arrival order', async () => {
    const limit = new StsCallLimit(2);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const calls = gates.map((gate, index) =>
      limit.run(new AbortController().signal, async () => {
        started.push(index);
        peak = Math.max(peak, ++running);
        await gate.promise;
        running--;
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    gates[0].resolve();
    for (const gate of gates) gate.resolve();
    await expect(Promise.all(calls)).resolves.toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('a waiter whose signal fires leaves the queue with its reason and never takes a turn; a failed call frees its turn', async () => {
    const limit = new StsCallLimit(1);
    const gate = deferred();
    const first = limit.run(new AbortController().signal, () => gate.promise.then(() => Promise.reject(new Error('STS said no'))));
    const deadline = new AbortController();
    let abortedRan = false;
    const aborted = limit.run(deadline.signal, async () => {
      abortedRan = true;
    });
    const later = limit.run(new AbortController().signal, async () => 'later');
    deadline.abort(new Error('deadline'));
    await expect(aborted).rejects.toThrow('deadline');
    gate.resolve();
    await expect(first).rejects.toThrow('STS said no');
    await expect(later).resolves.toBe('later');
    expect(abortedRan).toBe(false);
    // Every turn was given back: two calls at once would not both start if one leaked.
    const both = [deferred(), deferred()];
    const order: string[] = [];
    const a = limit.run(new AbortController().signal, async () => (order.push('a'), both[0].promise));
    const b = limit.run(new AbortController().signal, async () => (order.push('b'), both[1].promise));
    await Promise.resolve();
    expect(order).toEqual(['a']);
    both[0].resolve();
    both[1].resolve();
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
  });

  it('refuses at once a call whose signal has already fired', async () => {
    const done = new AbortController();
    done.abort(new Error('too late'));
    await expect(new StsCallLimit(4).run(done.signal, async () => 'sent')).rejects.toThrow('too late');
  });
});
