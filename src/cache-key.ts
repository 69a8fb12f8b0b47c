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
 * An unambiguous text of every input that changes the credentials a request gets: each field is a one-letter
 * tag and its JSON encoding (self-delimiting), absent fields are left out, sets are sorted. Never emitted:
 * `hashKey` turns it into the cache key.
 */
export function canonicalRequest(request: AssumeRoleRequest, defaults: KeyDefaults, baseIdentity: string): string {
  let text = `b${JSON.stringify(baseIdentity)}r${JSON.stringify(request.roleArn)}`;
  const externalId = request.externalId ?? defaults.externalId;
  if (externalId !== undefined) text += `e${JSON.stringify(externalId)}`;
  if (request.sessionName !== undefined) text += `s${JSON.stringify(request.sessionName)}`;
  if (request.policy !== undefined) text += `p${JSON.stringify(normalisedPolicy(request.policy))}`;
  if (request.policyArns !== undefined) text += `a${stableJson([...request.policyArns].sort())}`;
  if (request.tags !== undefined) text += `t${stableJson(request.tags)}`;
  if (request.transitiveTagKeys !== undefined) text += `k${stableJson([...request.transitiveTagKeys].sort())}`;
  if (request.sourceIdentity !== undefined) text += `i${JSON.stringify(request.sourceIdentity)}`;
  text += `d${JSON.stringify(String(effectiveDuration(request, defaults)))}`;
  if (request.mfa !== undefined) text += `m${JSON.stringify(request.mfa?.serialNumber)}`;
  if (request.via !== undefined) text += `v${JSON.stringify(canonicalRequest(request.via, defaults, baseIdentity))}`;
  return text;
}

/** The cache key: a SHA-256 of the canonical request, so no ExternalId or other input shows in it. */
export function hashKey(canonical: string): string {
  return hash('sha256', canonical, 'base64url');
}
