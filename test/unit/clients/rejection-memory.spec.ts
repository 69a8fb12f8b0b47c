/**
 * `RejectionMemory` alone, on a clock the spec moves by hand: which rejection replaces credentials, which is let
 * through, how long that lasts, and what ends it.
 */
import { RejectionMemory } from '../../../src/clients/rejection-memory';

const SCOPE = 'key-1\nS3Client\neu-west-1';

function memory(random = 0) {
  const clock = { now: 0, random };
  const rejections = new RejectionMemory({ now: () => clock.now, random: () => clock.random });
  return { rejections, clock };
}

describe('RejectionMemory', () => {
  it('replaces once; every attempt signed with the same rejected key replaces too (concurrent requests)', () => {
    const { rejections } = memory();
    expect(rejections.rejected(SCOPE, 'AK1')).toBe('replace');
    expect(rejections.rejected(SCOPE, 'AK1')).toBe('replace');
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('let-through');
    expect(rejections.rejected(SCOPE, 'AK1')).toBe('let-through'); // a late attempt with the old key, while remembered
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('let-through');
  });

  it('remembers 2 s (up to 4 s with jitter), doubling on each rejection of fresh credentials in a row, up to 5 min', () => {
    const { rejections, clock } = memory(0);
    const remembered: number[] = [];
    let key = 0;
    expect(rejections.rejected(SCOPE, `AK${key}`)).toBe('replace');
    for (let round = 0; round < 12; round++) {
      const since = clock.now;
      expect(rejections.rejected(SCOPE, `AK${++key}`)).toBe('let-through');
      // Let through until the memory runs out, then one more replacement.
      while (rejections.rejected(SCOPE, `AK${key}`) === 'let-through') clock.now += 100;
      remembered.push(clock.now - since);
    }
    expect(remembered.slice(0, 5)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(remembered.slice(-2)).toEqual([300_000, 300_000]);
  });

  it('jitters up to as much again', () => {
    const { rejections, clock } = memory(0.999);
    rejections.rejected(SCOPE, 'AK1');
    rejections.rejected(SCOPE, 'AK2');
    clock.now = 3_990;
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('let-through');
    clock.now = 4_000;
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('replace');
  });

  it('an accepted request ends it: the next rejection is staleness again', () => {
    const { rejections } = memory();
    rejections.rejected(SCOPE, 'AK1');
    rejections.rejected(SCOPE, 'AK2');
    rejections.accepted(SCOPE);
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('replace');
  });

  it('fresh credentials first rejected a minute or more after they replaced rejected ones are stale: replaced again', () => {
    const { rejections, clock } = memory();
    expect(rejections.rejected(SCOPE, 'AK1')).toBe('replace');
    clock.now = 59_999;
    expect(rejections.rejected(SCOPE, 'AK1')).toBe('replace'); // a late attempt with the old key
    clock.now = 60_000;
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('replace');
    clock.now = 61_000;
    expect(rejections.rejected(SCOPE, 'AK3')).toBe('let-through'); // the next fresh ones, rejected at once: a fault
  });

  it('scopes are apart: another region of the same key is not touched', () => {
    const { rejections } = memory();
    rejections.rejected(SCOPE, 'AK1');
    rejections.rejected(SCOPE, 'AK2');
    expect(rejections.rejected('key-1\nS3Client\nus-east-1', 'AK2')).toBe('replace');
  });

  it('clear forgets everything', () => {
    const { rejections } = memory();
    rejections.rejected(SCOPE, 'AK1');
    rejections.rejected(SCOPE, 'AK2');
    rejections.clear();
    expect(rejections.rejected(SCOPE, 'AK2')).toBe('replace');
  });
});
