/** An API jest's modern fake timers can fake (as this jest's `useFakeTimers` names them). */
type FakeableApi = NonNullable<Extract<Parameters<typeof jest.useFakeTimers>[0], { doNotFake?: unknown }>['doNotFake']>[number];

/** Every one of them this suite meets. */
const FAKEABLE: readonly FakeableApi[] = [
  'Date',
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'requestIdleCallback',
  'cancelIdleCallback',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
];

/**
 * Fakes only `faked` (by default the wall clock, `Date`), set to `now`; everything else stays real — the HTTP stack,
 * its timeouts, the SDK's retry delays and the mocks keep their own timers. Undo with `jest.useRealTimers()`.
 */
export function fakeOnly(now: number | Date, ...faked: FakeableApi[]): void {
  const fake: FakeableApi[] = faked.length > 0 ? faked : ['Date'];
  jest.useFakeTimers({ now, doNotFake: FAKEABLE.filter((api) => !fake.includes(api)) });
}
