import type { CredentialCacheSettings } from '../config/cache-options.js';

const MINUTE = 60_000;
/** Failed refreshes back off 1 s, 2 s, 4 s… up to this, with jitter (ms). */
const MAX_BACKOFF_MS = 5 * MINUTE;
/** The advisory window is widened by up to this fraction at random, so tenants do not refresh together. */
const JITTER_FRACTION = 0.25;
/** A background refresh starts at least this long before the mandatory window, whatever the windows are (ms). */
const MIN_REFRESH_LEAD_MS = 30_000;

/**
 * The default advisory window for credentials of a given lifetime (AWS's converging SDK behaviour):
 * under 20 min → 5 min before expiry, under 90 min → 15 min, else 60 min.
 */
export function defaultRefreshWindowSeconds(lifetimeSeconds: number): number {
  if (lifetimeSeconds < 20 * 60) return 5 * 60;
  if (lifetimeSeconds < 90 * 60) return 15 * 60;
  return 60 * 60;
}

/**
 * When the background refresh may start: `refreshWindowSeconds` (or the lifetime-scaled default, jittered)
 * before expiry, but at least `MIN_REFRESH_LEAD_MS` before the mandatory window so it runs while callers keep
 * their credentials, and not in the first half of the usable lifetime so it never runs on every call.
 * `random` is in [0, 1).
 */
export function refreshTime(
  settings: CredentialCacheSettings,
  now: number,
  expiresAt: number,
  mandatoryAt: number,
  random: number,
): number {
  const windowMs =
    (settings.refreshWindowSeconds ?? defaultRefreshWindowSeconds((expiresAt - now) / 1000)) * 1000 * (1 + JITTER_FRACTION * random);
  const beforeMandatory = Math.min(expiresAt - windowMs, mandatoryAt - MIN_REFRESH_LEAD_MS);
  return Math.max(beforeMandatory, now + (mandatoryAt - now) / 2);
}

/** How long to wait before the next try after the `failures`-th failure in a row (ms): 1 s doubling to 5 min, jittered. */
export function backoffAfter(failures: number, random: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1)) * (0.5 + 0.5 * random);
}
