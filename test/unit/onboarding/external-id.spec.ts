/** generateExternalId: unique per customer, unguessable (128 bits from node:crypto), always within STS's rules. */
import { STS_LIMITS, generateExternalId } from '../../../src';

const COUNT = 10_000;
const ids = Array.from({ length: COUNT }, () => generateExternalId());

describe('generateExternalId', () => {
  it('is 32 lowercase hex characters: 128 bits, nothing else', () => {
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('stays within the STS ExternalId rules (2–1224 of [\\w+=,.@:/-])', () => {
    const { min, max, pattern } = STS_LIMITS.externalId;
    for (const id of ids) {
      expect(id.length).toBeGreaterThanOrEqual(min);
      expect(id.length).toBeLessThanOrEqual(max);
      expect(id).toMatch(pattern);
    }
  });

  it(`never repeats in ${COUNT.toLocaleString('en')} draws`, () => {
    expect(new Set(ids).size).toBe(COUNT);
  });

  it('draws every bit evenly: each of the 128 bit positions is set in about half the ids', () => {
    // 10,000 fair coin flips: mean 5,000, standard deviation 50; 6 deviations would fail about once in 5·10⁸ runs.
    for (let bit = 0; bit < 128; bit++) {
      const digit = bit >> 2;
      const mask = 8 >> (bit & 3);
      const set = ids.reduce((count, id) => count + ((parseInt(id[digit], 16) & mask) !== 0 ? 1 : 0), 0);
      expect(Math.abs(set - COUNT / 2)).toBeLessThan(6 * 50);
    }
  });

  it('uses all 16 digits at every position, each about as often (chi-square, 15 degrees of freedom)', () => {
    for (let position = 0; position < 32; position++) {
      const counts = new Array<number>(16).fill(0);
      for (const id of ids) counts[parseInt(id[position], 16)]++;
      const expected = COUNT / 16;
      const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
      expect(chiSquare).toBeLessThan(60); // p < 10⁻⁶ for 15 degrees of freedom
    }
  });
});
