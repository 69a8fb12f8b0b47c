/**
 * SigV4 verification helpers for the local STS test server.
 *
 * Verification re-signs the received request with `SignatureV4` from
 * `@smithy/signature-v4`, using the request's own `x-amz-date` as the signing
 * date and only the headers the client said it signed, then compares the
 * signatures in constant time.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * Minimal implementation of the Smithy `Checksum`/`Hash` interface over
 * node:crypto (SHA-256, or HMAC-SHA-256 when constructed with a secret).
 */
export class NodeSha256 {
  private readonly secret?: Buffer;
  private hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.hash = this.create();
  }

  update(data: Uint8Array): void {
    this.hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.create();
  }

  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

export interface ParsedAuthorization {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`; undefined if malformed. */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const prefix = 'AWS4-HMAC-SHA256 ';
  if (!header.startsWith(prefix)) return undefined;
  const parts = new Map<string, string>();
  for (const raw of header.slice(prefix.length).split(',')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    parts.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature) return undefined;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((s) => s.length === 0)) return undefined;
  if (!/^[0-9a-f]{64}$/.test(signature)) return undefined;
  const [accessKeyId, shortDate, region, service, terminator] = scope as [string, string, string, string, string];
  return {
    accessKeyId,
    shortDate,
    region,
    service,
    terminator,
    signedHeaders: signedHeaders.split(';').filter((h) => h.length > 0),
    signature,
  };
}

/** Parses an ISO8601 basic timestamp (`20240101T000000Z`) as used by `x-amz-date`. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export interface ReceivedRequest {
  method: string;
  /** host header value, e.g. 127.0.0.1:1234 */
  host: string;
  path: string;
  query: Record<string, string | string[]>;
  /** lower-cased header names */
  headers: Record<string, string>;
  body: Buffer;
}

export interface VerifyInput {
  request: ReceivedRequest;
  auth: ParsedAuthorization;
  signingDate: Date;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Re-signs the request and compares the result with the signature received.
 * Returns true when the signature matches.
 */
export async function verifySignature({ request, auth, signingDate, credentials }: VerifyInput): Promise<boolean> {
  const signed = new Set(auth.signedHeaders.map((h) => h.toLowerCase()));
  const headers: Record<string, string> = {};
  for (const name of signed) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue; // re-added by the signer
    const value = request.headers[name];
    if (value === undefined) return false;
    headers[name] = value;
  }
  // A signed payload hash must describe the payload actually received.
  const contentSha = request.headers['x-amz-content-sha256'];
  if (signed.has('x-amz-content-sha256') && contentSha !== 'UNSIGNED-PAYLOAD' && contentSha !== sha256Hex(request.body)) {
    return false;
  }
  const [hostname, port] = splitHost(request.host);
  const signer = new SignatureV4({
    credentials,
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    applyChecksum: false,
    uriEscapePath: true,
  });
  const toSign = {
    method: request.method,
    protocol: 'http:',
    hostname,
    port,
    path: request.path,
    query: request.query,
    headers,
    body: request.body.length > 0 ? new Uint8Array(request.body) : undefined,
  };
  const result = await signer.sign(toSign as Parameters<SignatureV4['presign']>[0], {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: signed,
  });
  const authorization = result.headers['authorization'] ?? '';
  const recomputed = parseAuthorization(authorization);
  if (!recomputed) return false;
  const receivedList = [...signed].sort().join(';');
  if (recomputed.signedHeaders.join(';') !== receivedList) return false;
  return constantTimeEqual(recomputed.signature, auth.signature);
}

function splitHost(host: string): [string, number | undefined] {
  const m = /^(.*):(\d+)$/.exec(host);
  if (!m) return [host, undefined];
  return [m[1]!, Number(m[2])];
}
