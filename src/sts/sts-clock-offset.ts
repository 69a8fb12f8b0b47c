/** The offset the SDK learned from STS's `Date` headers (ms), shared by everyone reading one client's config. */
export interface StsClockOffset {
  readonly offset: number;
}

/** One per SDK client config, so that two readers of one client (two services on it) follow the same offset. */
const followed = new WeakMap<object, { offset: number }>();

/**
 * Follows a client config's `systemClockOffset` as the SDK writes it, on any send on that client (the service's own,
 * or one the app makes through `@InjectStsClient()`): the property becomes an accessor over a small object whose
 * field is cheap to read (the config is a slow object to read, and STS's time is read on every cache hit).
 */
export function followClockOffset(config: { systemClockOffset?: number } | undefined): StsClockOffset {
  if (config === undefined) return { offset: 0 };
  let box = followed.get(config);
  if (box === undefined && Object.getOwnPropertyDescriptor(config, 'systemClockOffset')?.configurable === false) {
    // A config whose property cannot become an accessor (a test double's) is read at each call instead.
    return {
      get offset() {
        return config.systemClockOffset ?? 0;
      },
    };
  }
  if (box === undefined) {
    const followedBox = (box = { offset: config.systemClockOffset ?? 0 });
    Object.defineProperty(config, 'systemClockOffset', {
      configurable: true,
      enumerable: true,
      get: () => followedBox.offset,
      set: (offset: number) => {
        followedBox.offset = offset;
      },
    });
    followed.set(config, box);
  }
  return box;
}
