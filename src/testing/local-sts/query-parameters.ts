/**
 * The STS Query protocol's requests: parameters from the URL and a form-encoded body, and the checks STS applies
 * to the shared parameters (RoleArn, RoleSessionName, DurationSeconds, session policy and tags), with STS's own
 * ValidationError messages.
 */
import type { IncomingMessage } from 'node:http';
import type { ReceivedRequest } from './sigv4.js';
import { LocalStsFailure, validationFailure } from './wire-format.js';

const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;

/** One request as the handlers see it. */
export interface StsQueryRequest {
  /** The `Action` parameter, '' when missing. */
  action: string;
  /** Query string parameters, overridden by form-encoded body parameters. */
  params: URLSearchParams;
  /** What SigV4 verification needs to re-sign the request. */
  received: ReceivedRequest;
}

/** Reads the parameters of a request whose body was already read. */
export function parseQueryRequest(req: IncomingMessage, body: Buffer): StsQueryRequest {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const params = new URLSearchParams(url.search);
  const contentType = String(req.headers['content-type'] ?? '');
  if (body.length > 0 && (contentType === '' || contentType.startsWith('application/x-www-form-urlencoded'))) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  return {
    action: params.get('Action') ?? '',
    params,
    received: {
      method: req.method ?? 'GET',
      host: headers['host'] ?? '',
      path: url.pathname,
      query,
      headers,
      body,
    },
  };
}

/** The RoleArn parameter, checked as STS checks it before looking the role up. */
export function requireRoleArn(value: string | null): string {
  if (value === null) {
    throw validationFailure("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
  }
  if (value.length < 20) {
    throw validationFailure(
      `1 validation error detected: Value '${value}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`,
    );
  }
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\//.test(value)) throw validationFailure(`${value} is invalid`);
  return value;
}

/** The RoleSessionName parameter: 2..64 of `[\w+=,.@-]`. */
export function requireSessionName(value: string | null): string {
  if (value === null) {
    throw validationFailure(
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!SESSION_NAME_PATTERN.test(value)) {
    throw validationFailure(
      `1 validation error detected: Value '${value}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  return value;
}

/** The DurationSeconds parameter within min..max; undefined when not sent. */
export function parseDuration(value: string | null, min: number, max: number): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw validationFailure(
      `1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`,
    );
  }
  if (n < min) {
    throw validationFailure(
      `1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (n > max) {
    throw validationFailure(
      `1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return n;
}

/** Session policy / tags packed size in percent, undefined when none was passed (as STS does). */
export function packedPolicySize(params: URLSearchParams): number | undefined {
  const policy = params.get('Policy');
  let bytes = 0;
  let any = false;
  if (policy !== null) {
    any = true;
    try {
      JSON.parse(policy);
    } catch {
      throw new LocalStsFailure('MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
    }
    bytes += Buffer.byteLength(policy.replace(/\s+/g, ''));
  }
  for (const [key, value] of params) {
    if (/^PolicyArns\.member\.\d+\.arn$/.test(key) || /^Tags\.member\.\d+\.(Key|Value)$/.test(key)) {
      any = true;
      bytes += Buffer.byteLength(value);
    }
  }
  if (!any) return undefined;
  const percent = Math.max(1, Math.ceil((bytes * 100) / 2048));
  if (percent > 100) {
    throw new LocalStsFailure(
      'PackedPolicyTooLarge',
      `Packed policy consumes ${percent}% of allotted space, please use smaller policy for this role.`,
    );
  }
  return percent;
}
