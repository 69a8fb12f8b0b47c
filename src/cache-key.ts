import { hash } from 'node:crypto';
import type { AssumeRoleRequest, SessionPolicy } from './sts-request.types';

/** What a key needs from the config: the defaults that change a request's meaning. */
export interface KeyDefaults {
  externalId?: string;
  defaultSessionDuration: number;
  maxSessionDuration: number;
  chainingMaxDuration: number;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` policies share a key. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function normalisedPolicy(policy: SessionPolicy): string {
  if (typeof policy !== 'string') return stableJson(policy);
  try {
    return stableJson(JSON.parse(policy));
  } catch {
    return policy;
  }
}

/** The duration a request will really ask for, as `StsService.assumeRole` resolves it. */
export function effectiveDuration(request: AssumeRoleRequest, defaults: KeyDefaults): number | undefined {
  const duration = request.durationSeconds ?? Math.min(defaults.defaultSessionDuration, defaults.maxSessionDuration);
  return request.via === undefined ? duration : Math.min(duration, defaults.chainingMaxDuration);
}

/**
 * The canonical text of the inputs besides role ARN and ExternalId: each field is a one-letter tag and its JSON
 * encoding (self-delimiting), absent fields are left out, sets are sorted. When only the duration is left it is
 * returned as a number, so the common request needs no text built at all.
 */
function canonicalRest(request: AssumeRoleRequest, defaults: KeyDefaults): string | number | undefined {
  const duration = effectiveDuration(request, defaults);
  const plain =
    request.sessionName === undefined && request.policy === undefined && request.policyArns === undefined && request.tags === undefined &&
    request.transitiveTagKeys === undefined && request.sourceIdentity === undefined && request.mfa === undefined && request.via === undefined;
  if (plain && typeof duration === 'number') return duration;
  let text = '';
  if (request.sessionName !== undefined) text += `s${JSON.stringify(request.sessionName)}`;
  if (request.policy !== undefined) text += `p${JSON.stringify(normalisedPolicy(request.policy))}`;
  if (request.policyArns !== undefined) text += `a${stableJson([...request.policyArns].sort())}`;
  if (request.tags !== undefined) text += `t${stableJson(request.tags)}`;
  if (request.transitiveTagKeys !== undefined) text += `k${stableJson([...request.transitiveTagKeys].sort())}`;
  if (request.sourceIdentity !== undefined) text += `i${JSON.stringify(request.sourceIdentity)}`;
  text += `d${JSON.stringify(duration) ?? 'null'}`;
  if (request.mfa !== undefined) text += `m${JSON.stringify(request.mfa?.serialNumber) ?? 'null'}`;
  if (request.via !== undefined) text += `v${JSON.stringify(canonicalRequest(request.via, defaults, ''))}`;
  return text;
}

/**
 * An unambiguous text of every input that changes the credentials a request gets. Never emitted: `hashKey`
 * turns it into the cache key. `baseIdentity` is a tag of the base identity, already encoded.
 */
export function canonicalRequest(request: AssumeRoleRequest, defaults: KeyDefaults, baseIdentity: string): string {
  return canonicalText(baseIdentity, request.roleArn, request.externalId ?? defaults.externalId, canonicalRest(request, defaults));
}

function canonicalText(baseIdentity: string, roleArn: unknown, externalId: unknown, rest: string | number | undefined): string {
  const external = externalId === undefined ? '' : `e${JSON.stringify(externalId)}`;
  return `${baseIdentity}r${JSON.stringify(roleArn)}${external}${typeof rest === 'string' ? rest : `d${JSON.stringify(rest) ?? 'null'}`}`;
}

/** The cache key: a SHA-256 of the canonical request, so no ExternalId or other input shows in it. */
export function hashKey(canonical: string): string {
  return hash('sha256', canonical, 'base64url');
}

/**
 * Turns requests into cache keys, remembering the keys of requests seen before in nested maps (role ARN →
 * ExternalId → the rest), so a hit needs neither the SHA-256 nor a long string built and hashed. The memory
 * lives in this process only, is never emitted, and is dropped whole when it outgrows `maxSize`.
 */
export class CacheKeyIndex {
  private readonly known = new Map<unknown, Map<unknown, Map<string | number | undefined, string>>>();
  private size = 0;

  constructor(
    private readonly defaults: KeyDefaults,
    private readonly baseIdentity: string,
    private readonly maxSize: number,
  ) {}

  keyOf(request: AssumeRoleRequest): string {
    const externalId = request.externalId ?? this.defaults.externalId;
    const rest = canonicalRest(request, this.defaults);
    const known = this.known.get(request.roleArn)?.get(externalId)?.get(rest);
    if (known !== undefined) return known;
    const key = hashKey(canonicalText(this.baseIdentity, request.roleArn, externalId, rest));
    if (this.size >= this.maxSize) this.clear();
    let byExternalId = this.known.get(request.roleArn);
    if (byExternalId === undefined) this.known.set(request.roleArn, (byExternalId = new Map()));
    let byRest = byExternalId.get(externalId);
    if (byRest === undefined) byExternalId.set(externalId, (byRest = new Map()));
    byRest.set(rest, key);
    this.size++;
    return key;
  }

  clear(): void {
    this.known.clear();
    this.size = 0;
  }
}

/**
 * A deep copy of a request (the MFA code function is kept by reference), for holders that compute its key
 * once, such as credential providers: a later change to the caller's object cannot pair a key with other inputs.
 */
export function snapshotRequest(request: AssumeRoleRequest): AssumeRoleRequest {
  if (typeof request !== 'object' || request === null) return request;
  return {
    ...request,
    policy: request.policy !== null && typeof request.policy === 'object' ? copyJson(request.policy) : request.policy,
    policyArns: request.policyArns && [...request.policyArns],
    tags: request.tags && { ...request.tags },
    transitiveTagKeys: request.transitiveTagKeys && [...request.transitiveTagKeys],
    mfa: request.mfa && { ...request.mfa },
    via: request.via && snapshotRequest(request.via),
  };
}

/** A deep copy through JSON; a value JSON cannot encode is kept as it is (validation refuses it). */
function copyJson<T>(value: T): T {
  try {
    return JSON.parse(JSON.stringify(value)) as T;
  } catch {
    return value;
  }
}
