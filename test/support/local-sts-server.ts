/**
 * A local, in-process AWS STS endpoint for tests and demos.
 *
 * - `node:http` on 127.0.0.1, ephemeral port; speaks the STS Query protocol
 *   (form-encoded POST, `Action` + `Version=2011-06-15`) and answers the XML
 *   real STS answers (namespace https://sts.amazonaws.com/doc/2011-06-15/).
 * - AssumeRole, GetSessionToken and GetCallerIdentity are SigV4-verified by
 *   re-signing the request with `@smithy/signature-v4`.
 * - A role registry enforces trust, ExternalId, MFA, MaxSessionDuration and
 *   the 1-hour role-chaining limit with STS's own error codes and messages.
 * - Issued credentials expire by an injectable clock.
 * - Faults (throttle, 5xx, delay, socket reset, malformed XML, clock skew,
 *   arbitrary STS error) can be injected per call, per action or per rate.
 *
 * Nothing here logs, and no secret is ever recorded in `calls`.
 */
import { seededRandom } from './seeded-random';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  constantTimeEqual,
  parseAmzDate,
  parseAuthorization,
  verifySignature,
  type ReceivedRequest,
} from './local-sts-sigv4';

export const STS_XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_API_VERSION = '2011-06-15';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface LocalStsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  arn: string;
  account: string;
  userId: string;
}

export interface LocalStsRole {
  /** arn:aws:iam::123456789012:role/Name (a path such as role/team/Name is allowed). */
  arn: string;
  /**
   * Caller ARNs allowed to AssumeRole: a base identity ARN, an assumed-role
   * session ARN, a role ARN (matches any session of that role),
   * `arn:aws:iam::ACCT:root` (any principal of that account) or `'*'` (any
   * signed caller). When omitted, any signed caller of the role's own account
   * is trusted (like a trust policy naming the account root).
   */
  trustedPrincipals?: string[];
  /** ExternalId the caller must send; when unset, any/no ExternalId is accepted. */
  externalId?: string;
  /** Requires SerialNumber + TokenCode (or MFA-authenticated GetSessionToken credentials). */
  mfaRequired?: boolean;
  /** 3600..43200, default 3600. */
  maxSessionDuration?: number;
  /** When set, AssumeRoleWithWebIdentity is allowed for tokens with this `aud`. */
  webIdentityAudience?: string;
  /** When set, AssumeRoleWithSAML is allowed with this PrincipalArn. */
  samlProviderArn?: string;
}

/** STS error codes this server can answer with (see LOCAL_STS_ERRORS for status/type). */
export type LocalStsErrorCode =
  | 'AccessDenied'
  | 'ValidationError'
  | 'Throttling'
  | 'InvalidClientTokenId'
  | 'SignatureDoesNotMatch'
  | 'RequestExpired'
  | 'ExpiredTokenException'
  | 'InvalidIdentityToken'
  | 'IDPRejectedClaim'
  | 'IDPCommunicationError'
  | 'MalformedPolicyDocument'
  | 'PackedPolicyTooLarge'
  | 'RegionDisabledException'
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'InvalidAction'
  | 'MissingAction'
  | 'InternalFailure'
  | 'ServiceUnavailable';

export const LOCAL_STS_ERRORS: Readonly<
  Record<LocalStsErrorCode, { status: number; type: 'Sender' | 'Receiver'; message: string }>
> = {
  AccessDenied: { status: 403, type: 'Sender', message: 'Access denied' },
  ValidationError: { status: 400, type: 'Sender', message: 'Validation error' },
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  InvalidClientTokenId: {
    status: 403,
    type: 'Sender',
    message: 'The security token included in the request is invalid.',
  },
  SignatureDoesNotMatch: {
    status: 403,
    type: 'Sender',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  },
  RequestExpired: { status: 403, type: 'Sender', message: 'Request has expired.' },
  ExpiredTokenException: {
    status: 400,
    type: 'Sender',
    message: 'The security token included in the request is expired',
  },
  InvalidIdentityToken: { status: 400, type: 'Sender', message: 'The web identity token that was passed is invalid.' },
  IDPRejectedClaim: { status: 403, type: 'Sender', message: 'The identity provider rejected the claim.' },
  IDPCommunicationError: {
    status: 400,
    type: 'Sender',
    message: 'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.',
  },
  MalformedPolicyDocument: { status: 400, type: 'Sender', message: 'The policy is not in the valid JSON format.' },
  PackedPolicyTooLarge: { status: 400, type: 'Sender', message: 'Packed policy consumes more than the allotted space.' },
  RegionDisabledException: {
    status: 403,
    type: 'Sender',
    message: 'STS is not activated in this region for account. Your account administrator can activate STS in this region using the IAM Console.',
  },
  MissingAuthenticationToken: { status: 403, type: 'Sender', message: 'Request is missing Authentication Token' },
  IncompleteSignature: { status: 400, type: 'Sender', message: 'Request signature is incomplete.' },
  InvalidAction: { status: 400, type: 'Sender', message: 'Could not find operation.' },
  MissingAction: { status: 400, type: 'Sender', message: 'Missing Action' },
  InternalFailure: { status: 500, type: 'Receiver', message: 'An internal error has occurred' },
  ServiceUnavailable: { status: 503, type: 'Receiver', message: 'Service is unable to handle request.' },
};

export type LocalStsFault =
  | { kind: 'throttle' } // 400 Throttling "Rate exceeded"
  | { kind: 'status'; status: 500 | 503 } // 500 InternalFailure / 503 ServiceUnavailable
  | { kind: 'delay'; ms: number } // wait, then answer normally (cancelled on close or client abort)
  | { kind: 'reset' } // destroy the socket without answering
  | { kind: 'malformed' } // 200 with broken XML
  | { kind: 'clockSkew'; seconds: number } // 403 SignatureDoesNotMatch "Signature expired" with a Date header skewed by `seconds`
  | { kind: 'error'; code: LocalStsErrorCode; message?: string }; // any STS error with its canonical status

export interface LocalStsFaultOptions {
  /** Apply to the next N matching calls. Default 1 when `rate` is not given. */
  times?: number;
  /** 0..1 probability per matching call (deterministic seeded RNG). Without `times`: until clearFaults(). */
  rate?: number;
  /** Only calls with this Action (e.g. 'AssumeRole'). */
  action?: string;
}

export interface LocalStsCall {
  action: string;
  /** HTTP status answered; 0 when the socket was reset / the call was abandoned. */
  status: number;
  roleArn?: string;
  fault?: LocalStsFault['kind'];
  /** STS error code, when the answer was an error. */
  errorCode?: string;
}

export interface LocalStsServerOptions {
  /** Base identities (long-term keys). The first is `baseIdentity`. Default: one local test user. */
  identities?: LocalStsIdentity[];
  roles?: LocalStsRole[];
  /** Server clock in epoch ms (default Date.now): credential expiry, Expiration, Date header. */
  now?: () => number;
  /** The only accepted MFA TokenCode (default '123456'). */
  validMfaCode?: string;
  /** Seed for the fault-rate RNG (default 1). */
  seed?: number;
  /**
   * When set, signed requests whose x-amz-date differs from `now()` by more than
   * this many seconds get 403 SignatureDoesNotMatch "Signature expired".
   * Off by default so fake clocks do not break signing.
   */
  maxClockSkewSeconds?: number;
}

export const DEFAULT_LOCAL_STS_IDENTITY: Readonly<LocalStsIdentity> = Object.freeze({
  accessKeyId: 'AKIALOCALSTS00000001',
  secretAccessKey: 'localStsSecretAccessKey00000000000000000',
  arn: 'arn:aws:iam::111111111111:user/local-test',
  account: '111111111111',
  userId: 'AIDALOCALSTS00000001',
});

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

const DEFAULT_ROLE_DURATION = 3600;
const DEFAULT_SESSION_TOKEN_DURATION = 43200;
const CHAINED_ROLE_MAX_DURATION = 3600;
const MAX_BODY_BYTES = 64 * 1024;
const MAX_ISSUED_CREDENTIALS = 10_000;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
const SUPPORTED_ACTIONS = [
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithSAML',
  'GetSessionToken',
  'GetCallerIdentity',
] as const;
type Action = (typeof SUPPORTED_ACTIONS)[number];

class StsError extends Error {
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';
  constructor(
    readonly code: LocalStsErrorCode,
    message?: string,
  ) {
    const def = LOCAL_STS_ERRORS[code];
    super(message ?? def.message);
    this.status = def.status;
    this.type = def.type;
  }
}

interface IssuedCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  kind: 'assumed-role' | 'session';
  account: string;
  /** Caller ARN (assumed-role session ARN, or the base identity ARN for GetSessionToken). */
  arn: string;
  userId: string;
  roleArn?: string;
  mfaAuthenticated: boolean;
  sourceIdentity?: string;
}

type Caller = { kind: 'identity'; identity: LocalStsIdentity } | { kind: 'issued'; cred: IssuedCredential };

interface FaultRule {
  fault: LocalStsFault;
  remaining?: number;
  rate?: number;
  action?: string;
}

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  action: string;
  roleArn?: string;
  fault?: LocalStsFault['kind'];
  received: ReceivedRequest;
  params: URLSearchParams;
}

interface XmlNode {
  [name: string]: string | number | XmlNode | undefined;
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

function unescapeXml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function renderXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) {
    if (value === undefined) continue;
    const inner = typeof value === 'object' ? renderXml(value) : escapeXml(String(value));
    out += `<${name}>${inner}</${name}>`;
  }
  return out;
}

function successXml(action: string, result: XmlNode, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<${action}Response xmlns="${STS_XML_NAMESPACE}">` +
    `<${action}Result>${renderXml(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata>` +
    `</${action}Response>\n`
  );
}

function errorXml(err: StsError, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ErrorResponse xmlns="${STS_XML_NAMESPACE}">` +
    `<Error><Type>${err.type}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId>` +
    `</ErrorResponse>\n`
  );
}


const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += BASE32[bytes[i % bytes.length]! & 31];
  return out;
}

function roleId(roleArn: string): string {
  return 'AROA' + base32(createHash('sha256').update(roleArn).digest(), 17);
}

function validation(message: string): StsError {
  return new StsError('ValidationError', message);
}

function decodeBase64UrlJson(part: string): unknown {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(part)) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function noop(): void {
  /* ignore */
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

export class LocalStsServer {
  readonly endpoint: string;
  readonly baseIdentity: LocalStsIdentity;

  private readonly server: Server;
  private readonly now: () => number;
  private readonly validMfaCode: string;
  private readonly maxClockSkewSeconds?: number;
  private readonly random: () => number;
  private readonly identities = new Map<string, LocalStsIdentity>();
  private readonly roles = new Map<string, LocalStsRole>();
  private readonly issued = new Map<string, IssuedCredential>();
  private readonly faults: FaultRule[] = [];
  private readonly callLog: LocalStsCall[] = [];
  private readonly pendingDelays = new Set<{ timer: NodeJS.Timeout; resolve: (elapsed: boolean) => void }>();
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private closing?: Promise<void>;

  private constructor(server: Server, port: number, options: LocalStsServerOptions) {
    this.server = server;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.now = options.now ?? Date.now;
    this.validMfaCode = options.validMfaCode ?? '123456';
    this.maxClockSkewSeconds = options.maxClockSkewSeconds;
    this.random = seededRandom(options.seed ?? 1);
    const identities = options.identities?.length ? options.identities : [{ ...DEFAULT_LOCAL_STS_IDENTITY }];
    for (const identity of identities) {
      if (!identity.accessKeyId || !identity.secretAccessKey) {
        throw new Error('LocalStsServer: identities need an accessKeyId and a secretAccessKey');
      }
      if (this.identities.has(identity.accessKeyId)) {
        throw new Error(`LocalStsServer: duplicate identity access key id ${identity.accessKeyId}`);
      }
      this.identities.set(identity.accessKeyId, { ...identity });
    }
    this.baseIdentity = { ...identities[0]! };
    for (const role of options.roles ?? []) this.addRole(role);
  }

  static async start(options: LocalStsServerOptions = {}): Promise<LocalStsServer> {
    const server = createServer();
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    let instance: LocalStsServer;
    try {
      instance = new LocalStsServer(server, port, options);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    server.on('request', (req: IncomingMessage, res: ServerResponse) => instance.onRequest(req, res));
    server.on('connection', (socket: Socket) => instance.onConnection(socket));
    server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
    server.on('error', noop);
    return instance;
  }

  // ----- role registry ------------------------------------------------------

  addRole(role: LocalStsRole): void {
    if (!ROLE_ARN_PATTERN.test(role.arn)) throw new Error(`LocalStsServer: invalid role ARN ${role.arn}`);
    if (this.roles.has(role.arn)) throw new Error(`LocalStsServer: role ${role.arn} already exists`);
    this.roles.set(role.arn, this.checkRole({ ...role }));
  }

  updateRole(arn: string, patch: Partial<LocalStsRole>): void {
    const current = this.roles.get(arn);
    if (!current) throw new Error(`LocalStsServer: unknown role ${arn}`);
    if (patch.arn !== undefined && patch.arn !== arn) throw new Error('LocalStsServer: a role ARN cannot be changed');
    this.roles.set(arn, this.checkRole({ ...current, ...patch, arn }));
  }

  removeRole(arn: string): void {
    this.roles.delete(arn);
  }

  private checkRole(role: LocalStsRole): LocalStsRole {
    const max = role.maxSessionDuration;
    if (max !== undefined && (!Number.isInteger(max) || max < 3600 || max > 43200)) {
      throw new Error('LocalStsServer: maxSessionDuration must be an integer between 3600 and 43200');
    }
    return role;
  }

  // ----- faults ---------------------------------------------------------------

  injectFault(fault: LocalStsFault, options: LocalStsFaultOptions = {}): void {
    const { times, rate, action } = options;
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
      throw new Error('LocalStsServer: times must be a positive integer');
    }
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new Error('LocalStsServer: rate must be within 0..1');
    if (fault.kind === 'delay' && !(fault.ms >= 0)) throw new Error('LocalStsServer: delay ms must be >= 0');
    if (fault.kind === 'error' && !(fault.code in LOCAL_STS_ERRORS)) {
      throw new Error(`LocalStsServer: unknown error code ${fault.code}`);
    }
    this.faults.push({
      fault: { ...fault },
      remaining: times ?? (rate === undefined ? 1 : undefined),
      rate,
      action,
    });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  private takeFault(action: string): LocalStsFault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const rule = this.faults[i]!;
      if (rule.action !== undefined && rule.action !== action) continue;
      if (rule.rate !== undefined && this.random() >= rule.rate) continue;
      if (rule.remaining !== undefined) {
        rule.remaining -= 1;
        if (rule.remaining <= 0) this.faults.splice(i, 1);
      }
      return rule.fault;
    }
    return undefined;
  }

  // ----- call log -------------------------------------------------------------

  get calls(): ReadonlyArray<LocalStsCall> {
    return this.callLog.map((c) => ({ ...c }));
  }

  callCount(action?: string): number {
    return action === undefined ? this.callLog.length : this.callLog.filter((c) => c.action === action).length;
  }

  resetCalls(): void {
    this.callLog.length = 0;
  }

  /** Number of credential sets issued and not yet expired (by the server clock). */
  /** Forgets credentials it issued, as if AWS revoked them: they are then answered with InvalidClientTokenId. */
  revokeCredentials(accessKeyId: string): boolean {
    return this.issued.delete(accessKeyId);
  }

  activeCredentialCount(): number {
    const now = this.now();
    let n = 0;
    for (const cred of this.issued.values()) if (cred.expiresAt > now) n++;
    return n;
  }

  // ----- lifecycle ------------------------------------------------------------

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve(false);
    }
    this.pendingDelays.clear();
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', noop);
    socket.once('close', () => this.sockets.delete(socket));
  }

  // ----- request handling -----------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', noop);
    res.on('error', noop);
    this.handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        const requestId = randomUUID();
        this.sendRaw(res, 500, errorXml(new StsError('InternalFailure'), requestId), requestId);
      } else {
        res.destroy();
      }
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let body: Buffer;
    try {
      body = await this.readBody(req);
    } catch {
      if (!res.destroyed && !res.headersSent) {
        const err = validation('Request body is too large.');
        this.sendRaw(res, err.status, errorXml(err, requestId), requestId, { connection: 'close' });
      }
      req.destroy();
      return;
    }
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
    const ctx: RequestContext = {
      req,
      res,
      requestId,
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
    if (ctx.action === 'AssumeRole' || ctx.action.startsWith('AssumeRoleWith')) {
      ctx.roleArn = params.get('RoleArn') ?? undefined;
    }

    const fault = this.takeFault(ctx.action);
    if (fault) {
      ctx.fault = fault.kind;
      const handled = await this.applyFault(ctx, fault);
      if (handled) return;
    }
    if (this.closed || res.destroyed) {
      this.record(ctx, 0);
      return;
    }

    try {
      const result = await this.dispatch(ctx);
      this.sendSuccess(ctx, result);
    } catch (err) {
      this.sendError(ctx, err instanceof StsError ? err : new StsError('InternalFailure'));
    }
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > MAX_BODY_BYTES) throw new Error('body too large');
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  }

  /** Returns true when the fault fully handled (answered or dropped) the request. */
  private async applyFault(ctx: RequestContext, fault: LocalStsFault): Promise<boolean> {
    switch (fault.kind) {
      case 'throttle':
        this.sendError(ctx, new StsError('Throttling', 'Rate exceeded'));
        return true;
      case 'status':
        this.sendError(ctx, new StsError(fault.status === 503 ? 'ServiceUnavailable' : 'InternalFailure'));
        return true;
      case 'error':
        this.sendError(ctx, new StsError(fault.code, fault.message));
        return true;
      case 'reset':
        this.record(ctx, 0);
        ctx.req.socket.destroy();
        return true;
      case 'malformed': {
        const name = ctx.action || 'Unknown';
        const broken =
          `<?xml version="1.0" encoding="UTF-8"?>\n<${name}Response xmlns="${STS_XML_NAMESPACE}">` +
          `<${name}Result><Credentials><AccessKeyId>ASIA</SecretAccessKey></${name}Result`;
        this.sendRaw(ctx.res, 200, broken, ctx.requestId);
        this.record(ctx, 200);
        return true;
      }
      case 'clockSkew': {
        const serverNow = this.now() + fault.seconds * 1000;
        const amzDate = ctx.received.headers['x-amz-date'] ?? '';
        const err = new StsError(
          'SignatureDoesNotMatch',
          `Signature expired: ${amzDate} is now earlier than ${compactDate(serverNow - 5 * 60_000)} (${compactDate(serverNow)} - 5 min.)`,
        );
        this.sendError(ctx, err, { date: new Date(serverNow).toUTCString() });
        return true;
      }
      case 'delay': {
        const elapsed = await this.sleep(fault.ms, ctx.res);
        if (!elapsed) {
          this.record(ctx, 0);
          if (!ctx.res.destroyed) ctx.req.socket.destroy();
          return true;
        }
        return false;
      }
    }
  }

  private sleep(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.closed || res.destroyed) {
        resolve(false);
        return;
      }
      let settled = false;
      const finish = (elapsed: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(entry.timer);
        this.pendingDelays.delete(entry);
        res.off('close', onClose);
        resolve(elapsed && !this.closed && !res.destroyed);
      };
      const onClose = (): void => finish(false);
      const entry = { timer: setTimeout(() => finish(true), ms), resolve: finish };
      this.pendingDelays.add(entry);
      res.once('close', onClose);
    });
  }

  private async dispatch(ctx: RequestContext): Promise<XmlNode> {
    const { action, params } = ctx;
    if (!action) throw new StsError('MissingAction', 'Missing Action');
    const version = params.get('Version');
    if (!(SUPPORTED_ACTIONS as readonly string[]).includes(action) || version !== STS_API_VERSION) {
      throw new StsError('InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`);
    }
    switch (action as Action) {
      case 'AssumeRole':
        return this.assumeRole(ctx, await this.authenticate(ctx));
      case 'GetSessionToken':
        return this.getSessionToken(ctx, await this.authenticate(ctx));
      case 'GetCallerIdentity':
        return this.getCallerIdentity(await this.authenticate(ctx));
      case 'AssumeRoleWithWebIdentity':
        return this.assumeRoleWithWebIdentity(ctx);
      case 'AssumeRoleWithSAML':
        return this.assumeRoleWithSaml(ctx);
    }
  }

  // ----- authentication -------------------------------------------------------

  private async authenticate(ctx: RequestContext): Promise<Caller> {
    const { headers } = ctx.received;
    const authorization = headers['authorization'];
    if (!authorization) throw new StsError('MissingAuthenticationToken');
    const auth = parseAuthorization(authorization);
    if (!auth) {
      throw new StsError(
        'IncompleteSignature',
        `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${authorization.split(' ')[0] ?? ''}`,
      );
    }
    const amzDate = headers['x-amz-date'];
    if (!amzDate) {
      throw new StsError('IncompleteSignature', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    const signingDate = parseAmzDate(amzDate);
    if (!signingDate) throw new StsError('IncompleteSignature', 'X-Amz-Date must be in the ISO8601 Long Format');
    if (auth.service !== 'sts' || auth.terminator !== 'aws4_request') {
      throw new StsError('SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sts'. ");
    }
    if (auth.shortDate !== amzDate.slice(0, 8)) {
      throw new StsError(
        'SignatureDoesNotMatch',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.shortDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      );
    }
    if (this.maxClockSkewSeconds !== undefined) {
      const now = this.now();
      const skewMs = this.maxClockSkewSeconds * 1000;
      if (signingDate.getTime() < now - skewMs) {
        throw new StsError(
          'SignatureDoesNotMatch',
          `Signature expired: ${amzDate} is now earlier than ${compactDate(now - skewMs)} (${compactDate(now)} - ${this.maxClockSkewSeconds} sec.)`,
        );
      }
      if (signingDate.getTime() > now + skewMs) {
        throw new StsError(
          'SignatureDoesNotMatch',
          `Signature not yet current: ${amzDate} is still later than ${compactDate(now + skewMs)} (${compactDate(now)} + ${this.maxClockSkewSeconds} sec.)`,
        );
      }
    }

    const token = headers['x-amz-security-token'];
    let caller: Caller;
    let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    const identity = this.identities.get(auth.accessKeyId);
    const issued = identity ? undefined : this.issued.get(auth.accessKeyId);
    if (identity) {
      if (token !== undefined) throw new StsError('InvalidClientTokenId');
      caller = { kind: 'identity', identity };
      credentials = { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey };
    } else if (issued) {
      if (token === undefined || !constantTimeEqual(token, issued.sessionToken)) {
        throw new StsError('InvalidClientTokenId');
      }
      if (issued.expiresAt <= this.now()) throw new StsError('ExpiredTokenException');
      caller = { kind: 'issued', cred: issued };
      credentials = {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
      };
    } else {
      throw new StsError('InvalidClientTokenId');
    }
    const ok = await verifySignature({ request: ctx.received, auth, signingDate, credentials });
    if (!ok) throw new StsError('SignatureDoesNotMatch');
    return caller;
  }

  // ----- operations -----------------------------------------------------------

  private assumeRole(ctx: RequestContext, caller: Caller): XmlNode {
    const { params } = ctx;
    const roleArn = requireRoleArn(params.get('RoleArn'));
    const sessionName = requireSessionName(params.get('RoleSessionName'));
    const duration = parseDuration(params.get('DurationSeconds'), 900, 43200);
    const callerArn = caller.kind === 'identity' ? caller.identity.arn : caller.cred.arn;
    const denied = (): StsError =>
      new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);

    const role = this.roles.get(roleArn);
    if (!role || !this.trusts(role, caller)) throw denied();
    if (role.externalId !== undefined && params.get('ExternalId') !== role.externalId) throw denied();
    if (role.mfaRequired) {
      const serial = params.get('SerialNumber');
      const code = params.get('TokenCode');
      if (serial && code !== null) {
        if (!constantTimeEqual(code, this.validMfaCode)) {
          throw new StsError('AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code. ');
        }
      } else if (!(caller.kind === 'issued' && caller.cred.mfaAuthenticated)) {
        throw denied();
      }
    }
    const chained = caller.kind === 'issued' && caller.cred.kind === 'assumed-role';
    if (chained && duration !== undefined && duration > CHAINED_ROLE_MAX_DURATION) {
      throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    const seconds = this.checkRoleDuration(role, duration);
    const packed = packedPolicySize(params);
    const inheritedSource = caller.kind === 'issued' ? caller.cred.sourceIdentity : undefined;
    const requestedSource = params.get('SourceIdentity') ?? undefined;
    if (inheritedSource !== undefined && requestedSource !== undefined && requestedSource !== inheritedSource) {
      throw denied();
    }
    const sourceIdentity = requestedSource ?? inheritedSource;
    const cred = this.issueAssumedRole(role, sessionName, seconds, {
      mfaAuthenticated: caller.kind === 'issued' ? caller.cred.mfaAuthenticated : Boolean(params.get('SerialNumber')),
      sourceIdentity,
    });
    return {
      Credentials: credentialsXml(cred),
      AssumedRoleUser: { Arn: cred.arn, AssumedRoleId: cred.userId },
      PackedPolicySize: packed,
      SourceIdentity: sourceIdentity,
    };
  }

  private assumeRoleWithWebIdentity(ctx: RequestContext): XmlNode {
    const { params } = ctx;
    const roleArn = requireRoleArn(params.get('RoleArn'));
    const sessionName = requireSessionName(params.get('RoleSessionName'));
    const token = params.get('WebIdentityToken');
    if (token === null) {
      throw validation("1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null");
    }
    const duration = parseDuration(params.get('DurationSeconds'), 900, 43200);
    const claims = parseJwt(token);
    if (!claims) {
      throw new StsError(
        'InvalidIdentityToken',
        'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
      );
    }
    if (claims.exp !== undefined && claims.exp * 1000 <= this.now()) {
      throw new StsError(
        'ExpiredTokenException',
        `Token expired: current date/time ${Math.floor(this.now() / 1000)} must be before the expiration date/time ${claims.exp}`,
      );
    }
    const role = this.roles.get(roleArn);
    if (!role || role.webIdentityAudience === undefined) {
      throw new StsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    if (!claims.aud.includes(role.webIdentityAudience)) {
      throw new StsError('InvalidIdentityToken', 'Incorrect token audience');
    }
    const seconds = this.checkRoleDuration(role, duration);
    const packed = packedPolicySize(params);
    const cred = this.issueAssumedRole(role, sessionName, seconds, { mfaAuthenticated: false });
    return {
      Credentials: credentialsXml(cred),
      SubjectFromWebIdentityToken: claims.sub,
      AssumedRoleUser: { Arn: cred.arn, AssumedRoleId: cred.userId },
      PackedPolicySize: packed,
      Provider: params.get('ProviderId') ?? claims.iss.replace(/^https?:\/\//, ''),
      Audience: role.webIdentityAudience,
    };
  }

  private assumeRoleWithSaml(ctx: RequestContext): XmlNode {
    const { params } = ctx;
    const roleArn = requireRoleArn(params.get('RoleArn'));
    const principalArn = params.get('PrincipalArn');
    if (principalArn === null) {
      throw validation("1 validation error detected: Value null at 'principalArn' failed to satisfy constraint: Member must not be null");
    }
    const assertion = params.get('SAMLAssertion');
    if (assertion === null) {
      throw validation("1 validation error detected: Value null at 'sAMLAssertion' failed to satisfy constraint: Member must not be null");
    }
    const duration = parseDuration(params.get('DurationSeconds'), 900, 43200);
    const xml = /^[A-Za-z0-9+/=\s]+$/.test(assertion) ? Buffer.from(assertion, 'base64').toString('utf8').trim() : '';
    if (!xml.startsWith('<')) throw new StsError('InvalidIdentityToken', 'Invalid base64 SAMLResponse');
    const role = this.roles.get(roleArn);
    if (!role || role.samlProviderArn === undefined || role.samlProviderArn !== principalArn) {
      throw new StsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithSAML');
    }
    const issuer = matchXml(xml, /<(?:[\w-]+:)?Issuer\b[^>]*>([^<]*)<\/(?:[\w-]+:)?Issuer>/) ?? 'https://local-idp.example/';
    const nameId = /<(?:[\w-]+:)?NameID\b([^>]*)>([^<]*)<\/(?:[\w-]+:)?NameID>/.exec(xml);
    const subject = nameId ? unescapeXml(nameId[2]!.trim()) : 'local-saml-subject';
    const format = nameId ? /\bFormat\s*=\s*"([^"]*)"/.exec(nameId[1]!)?.[1] : undefined;
    const subjectType = !format
      ? 'persistent'
      : /nameid-format:(persistent|transient)$/.exec(format)?.[1] ?? format;
    const sessionAttr = matchXml(
      xml,
      /Name="https:\/\/aws\.amazon\.com\/SAML\/Attributes\/RoleSessionName"[^>]*>\s*<(?:[\w-]+:)?AttributeValue\b[^>]*>([^<]*)</,
    );
    const rawSession = (sessionAttr ?? subject).replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
    const sessionName = rawSession.length >= 2 ? rawSession : 'saml-session';
    const providerMatch = /^arn:aws[a-z-]*:iam::(\d{12}):saml-provider\/(.+)$/.exec(principalArn);
    const providerAccount = providerMatch?.[1] ?? roleAccount(roleArn);
    const providerName = providerMatch?.[2] ?? principalArn;
    const nameQualifier = createHash('sha1').update(`${issuer}${providerAccount}/${providerName}`).digest('base64');
    const seconds = this.checkRoleDuration(role, duration);
    const packed = packedPolicySize(params);
    const cred = this.issueAssumedRole(role, sessionName, seconds, { mfaAuthenticated: false });
    return {
      Credentials: credentialsXml(cred),
      AssumedRoleUser: { Arn: cred.arn, AssumedRoleId: cred.userId },
      PackedPolicySize: packed,
      Subject: subject,
      SubjectType: subjectType,
      Issuer: issuer,
      Audience: 'https://signin.aws.amazon.com/saml',
      NameQualifier: nameQualifier,
    };
  }

  private getSessionToken(ctx: RequestContext, caller: Caller): XmlNode {
    const { params } = ctx;
    if (caller.kind === 'issued') {
      throw new StsError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
    }
    const seconds = parseDuration(params.get('DurationSeconds'), 900, 129600) ?? DEFAULT_SESSION_TOKEN_DURATION;
    const serial = params.get('SerialNumber');
    const code = params.get('TokenCode');
    if (serial !== null || code !== null) {
      if (serial === null || code === null || !constantTimeEqual(code, this.validMfaCode)) {
        throw new StsError('AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code. ');
      }
    }
    const { identity } = caller;
    const cred = this.issue({
      kind: 'session',
      seconds,
      account: identity.account,
      arn: identity.arn,
      userId: identity.userId,
      mfaAuthenticated: serial !== null,
    });
    return { Credentials: credentialsXml(cred) };
  }

  private getCallerIdentity(caller: Caller): XmlNode {
    const who = caller.kind === 'identity' ? caller.identity : caller.cred;
    return { UserId: who.userId, Account: who.account, Arn: who.arn };
  }

  // ----- helpers --------------------------------------------------------------

  private trusts(role: LocalStsRole, caller: Caller): boolean {
    const callerArn = caller.kind === 'identity' ? caller.identity.arn : caller.cred.arn;
    const callerAccount = caller.kind === 'identity' ? caller.identity.account : caller.cred.account;
    const candidates = [callerArn, `arn:aws:iam::${callerAccount}:root`];
    if (caller.kind === 'issued' && caller.cred.roleArn) candidates.push(caller.cred.roleArn);
    if (role.trustedPrincipals === undefined) return callerAccount === roleAccount(role.arn);
    return role.trustedPrincipals.some((p) => p === '*' || candidates.includes(p));
  }

  private checkRoleDuration(role: LocalStsRole, duration: number | undefined): number {
    const max = role.maxSessionDuration ?? DEFAULT_ROLE_DURATION;
    if (duration !== undefined && duration > max) {
      throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    return duration ?? DEFAULT_ROLE_DURATION;
  }

  private issueAssumedRole(
    role: LocalStsRole,
    sessionName: string,
    seconds: number,
    extra: { mfaAuthenticated: boolean; sourceIdentity?: string },
  ): IssuedCredential {
    const account = roleAccount(role.arn);
    const name = roleName(role.arn);
    return this.issue({
      kind: 'assumed-role',
      seconds,
      account,
      arn: `arn:aws:sts::${account}:assumed-role/${name}/${sessionName}`,
      userId: `${roleId(role.arn)}:${sessionName}`,
      roleArn: role.arn,
      ...extra,
    });
  }

  private issue(spec: Omit<IssuedCredential, 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'expiresAt'> & { seconds: number }): IssuedCredential {
    const { seconds, ...rest } = spec;
    const cred: IssuedCredential = {
      ...rest,
      accessKeyId: 'ASIA' + base32(randomBytes(16), 16),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: 'IQoJb3JpZ2luX2VjLOCAL' + randomBytes(96).toString('base64'),
      expiresAt: this.now() + seconds * 1000,
    };
    this.issued.set(cred.accessKeyId, cred);
    while (this.issued.size > MAX_ISSUED_CREDENTIALS) {
      const oldest = this.issued.keys().next().value as string;
      this.issued.delete(oldest);
    }
    return cred;
  }

  // ----- responses ------------------------------------------------------------

  private sendSuccess(ctx: RequestContext, result: XmlNode): void {
    if (ctx.res.destroyed) {
      this.record(ctx, 0);
      return;
    }
    this.sendRaw(ctx.res, 200, successXml(ctx.action, result, ctx.requestId), ctx.requestId);
    this.record(ctx, 200);
  }

  private sendError(ctx: RequestContext, err: StsError, headers: Record<string, string> = {}): void {
    if (ctx.res.destroyed) {
      this.record(ctx, 0, err.code);
      return;
    }
    this.sendRaw(ctx.res, err.status, errorXml(err, ctx.requestId), ctx.requestId, headers);
    this.record(ctx, err.status, err.code);
  }

  private sendRaw(res: ServerResponse, status: number, body: string, requestId: string, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return;
    const payload = Buffer.from(body, 'utf8');
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': String(payload.length),
      'x-amzn-requestid': requestId,
      date: new Date(this.now()).toUTCString(),
      ...headers,
    });
    res.end(payload);
  }

  private record(ctx: RequestContext, status: number, errorCode?: string): void {
    const call: LocalStsCall = { action: ctx.action || 'Unknown', status };
    if (ctx.roleArn !== undefined) call.roleArn = ctx.roleArn;
    if (ctx.fault !== undefined) call.fault = ctx.fault;
    if (errorCode !== undefined) call.errorCode = errorCode;
    this.callLog.push(call);
  }
}

// ---------------------------------------------------------------------------
// Parameter helpers
// ---------------------------------------------------------------------------

function compactDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function roleAccount(roleArn: string): string {
  return ROLE_ARN_PATTERN.exec(roleArn)?.[1] ?? '000000000000';
}

function roleName(roleArn: string): string {
  return ROLE_ARN_PATTERN.exec(roleArn)?.[2] ?? roleArn.split('/').pop() ?? 'unknown';
}

function requireRoleArn(value: string | null): string {
  if (value === null) {
    throw validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
  }
  if (value.length < 20) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`,
    );
  }
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\//.test(value)) throw validation(`${value} is invalid`);
  return value;
}

function requireSessionName(value: string | null): string {
  if (value === null) {
    throw validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
  }
  if (!SESSION_NAME_PATTERN.test(value)) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  return value;
}

function parseDuration(value: string | null, min: number, max: number): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw validation(`1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
  }
  if (n < min) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (n > max) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return n;
}

/** Session policy / tags packed size in percent, undefined when none was passed (as STS does). */
function packedPolicySize(params: URLSearchParams): number | undefined {
  const policy = params.get('Policy');
  let bytes = 0;
  let any = false;
  if (policy !== null) {
    any = true;
    try {
      JSON.parse(policy);
    } catch {
      throw new StsError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
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
    throw new StsError('PackedPolicyTooLarge', `Packed policy consumes ${percent}% of allotted space, please use smaller policy for this role.`);
  }
  return percent;
}

function credentialsXml(cred: IssuedCredential): XmlNode {
  return {
    AccessKeyId: cred.accessKeyId,
    SecretAccessKey: cred.secretAccessKey,
    SessionToken: cred.sessionToken,
    Expiration: iso(cred.expiresAt),
  };
}

function parseJwt(token: string): { sub: string; aud: string[]; iss: string; exp?: number } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1]) return undefined;
  const header = decodeBase64UrlJson(parts[0]);
  const payload = decodeBase64UrlJson(parts[1]);
  if (!isRecord(header) || !isRecord(payload)) return undefined;
  const { sub, aud, iss, exp } = payload;
  if (typeof sub !== 'string' || typeof iss !== 'string') return undefined;
  const audList = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  if (audList.length === 0) return undefined;
  if (exp !== undefined && typeof exp !== 'number') return undefined;
  return { sub, aud: audList, iss, exp };
}

function matchXml(xml: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(xml);
  return m ? unescapeXml(m[1]!.trim()) : undefined;
}

/** Builds an unsigned JWT-shaped web identity token the server accepts. */
export function makeLocalWebIdentityToken(claims: { sub: string; aud: string | string[]; iss: string; exp?: number; [k: string]: unknown }): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.local-unsigned`;
}

/** Builds a base64 SAML response the server accepts. */
export function makeLocalSamlAssertion(opts: { issuer?: string; subject?: string; sessionName?: string } = {}): string {
  const issuer = escapeXml(opts.issuer ?? 'https://local-idp.example/');
  const subject = escapeXml(opts.subject ?? 'local-user@example.com');
  const session = opts.sessionName
    ? `<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>${escapeXml(opts.sessionName)}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`
    : '';
  const xml =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
    `<saml:Issuer>${issuer}</saml:Issuer><saml:Assertion><saml:Issuer>${issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${subject}</saml:NameID></saml:Subject>` +
    `${session}</saml:Assertion></samlp:Response>`;
  return Buffer.from(xml, 'utf8').toString('base64');
}
