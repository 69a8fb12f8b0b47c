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
 * This file holds the HTTP side (listen, close, read, route, answer, call log); the STS semantics live in the
 * modules next to it. Nothing here logs, and no secret is ever recorded in `calls`.
 */
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { STSClientConfig } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ServerAwsStsConfig } from '../../config/server-aws-sts.config.js';
import { seededRandom } from './seeded-random.js';
import { authenticate, type AuthenticationContext } from './authentication.js';
import { CredentialStore, type LocalStsIdentity } from './credentials.js';
import { sendXml, StsExchange, type LocalStsCall } from './exchange.js';
import { faultEffect, FaultInjector, PendingDelays, type LocalStsFault, type LocalStsFaultOptions } from './faults.js';
import { RoleRegistry, type LocalStsRole } from './iam-rules.js';
import { OutboundTokens } from './outbound-tokens.js';
import { parseQueryRequest, type StsQueryRequest } from './query-parameters.js';
import { ROLE_ARN_PATTERN } from './role-arn.js';
import * as actions from './sts-actions.js';
import type { StsActionContext } from './sts-actions.js';
import { errorXml, LocalStsFailure, STS_API_VERSION, validationFailure, type XmlNode } from './wire-format.js';

/** Options of LocalStsServer.start(). */
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

/** The region of the signing scope the server expects (any region signs correctly; this one is the default). */
const LOCAL_STS_REGION = 'us-east-1';
const MAX_BODY_BYTES = 64 * 1024;
/** The key of the in-flight counter of every action together. */
const ANY_ACTION = '*';
const SUPPORTED_ACTIONS = [
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithSAML',
  'GetSessionToken',
  'GetCallerIdentity',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
  'GetFederationToken',
  'GetWebIdentityToken',
  'AssumeRoot',
  'GetDelegatedAccessToken',
] as const;
type Action = (typeof SUPPORTED_ACTIONS)[number];

function noop(): void {
  /* ignore */
}

/**
 * Starts a local STS endpoint on a free port of 127.0.0.1 (see the file comment); stop it with `close()`.
 * Rejects (and closes) on invalid options.
 */
export function startLocalSts(options: LocalStsServerOptions = {}): Promise<LocalStsServer> {
  return LocalStsServer.start(options);
}

/** The local STS endpoint; see the file comment. Start it with `startLocalSts()`, stop it with `close()`. */
export class LocalStsServer {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly endpoint: string;
  /** The first configured identity: the keys to sign with. */
  readonly baseIdentity: LocalStsIdentity;

  private readonly server: Server;
  private readonly now: () => number;
  private readonly credentials: CredentialStore;
  private readonly roles = new RoleRegistry();
  private readonly actionContext: StsActionContext;
  private readonly authContext: AuthenticationContext;
  private readonly faults: FaultInjector;
  private readonly outboundTokens: OutboundTokens;
  private readonly delays = new PendingDelays();
  private readonly callLog: LocalStsCall[] = [];
  /** Requests of each action being handled now, and the most there were at once since the last resetCalls(). */
  private readonly running = new Map<string, { now: number; peak: number }>();
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private closing?: Promise<void>;

  private constructor(server: Server, port: number, options: LocalStsServerOptions) {
    this.server = server;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.now = options.now ?? Date.now;
    this.faults = new FaultInjector(seededRandom(options.seed ?? 1));
    this.credentials = new CredentialStore(options.identities, this.now);
    this.outboundTokens = new OutboundTokens(this.now);
    this.baseIdentity = this.credentials.baseIdentity;
    const { roles, credentials, now } = this;
    this.actionContext = {
      roles,
      credentials,
      now,
      validMfaCode: options.validMfaCode ?? '123456',
      authorizationMessages: new Map(),
      organization: { rootSessionsEnabled: false, memberAccounts: new Set() },
      tradeInTokens: new Map(),
    };
    this.authContext = { credentials, now, maxClockSkewSeconds: options.maxClockSkewSeconds };
    for (const role of options.roles ?? []) this.addRole(role);
  }

  /** Listens on an ephemeral port of 127.0.0.1; rejects (and closes) on invalid options. */
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

  /**
   * Options for `ServerAwsStsModule.configure(...)` pointing the module at this server, signed as `baseIdentity`,
   * region `us-east-1`: `configure(sts.moduleConfig({ cache: false }))`. Yours are merged over them, `clientConfig`
   * included (its `endpoint` stays this server's).
   */
  moduleConfig(overrides: ServerAwsStsConfig = {}): ServerAwsStsConfig {
    const { accessKeyId, secretAccessKey } = this.baseIdentity;
    const clientConfig = { ...overrides.clientConfig, endpoint: this.endpoint };
    return { AWS_REGION: LOCAL_STS_REGION, credentials: { accessKeyId, secretAccessKey }, ...overrides, clientConfig };
  }

  /**
   * Options for a plain `new STSClient(...)` talking to this server: its endpoint, region `us-east-1`, and
   * `credentials` (default: `baseIdentity`'s keys; pass credentials the server issued to call as that session).
   */
  stsClientConfig(credentials: AwsCredentialIdentity = this.baseIdentity): STSClientConfig {
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    return { endpoint: this.endpoint, region: LOCAL_STS_REGION, credentials: { accessKeyId, secretAccessKey, sessionToken } };
  }

  /** Adds a role; throws on an invalid ARN, a duplicate or an invalid maxSessionDuration. */
  addRole(role: LocalStsRole): void {
    this.roles.add(role);
  }

  /**
   * An encoded authorization failure message, as an AWS service appends it to an AccessDenied, that this server's
   * DecodeAuthorizationMessage decodes into `decoded` (as JSON). Any other message is answered with
   * InvalidAuthorizationMessageException.
   */
  encodeAuthorizationMessage(decoded: Record<string, unknown>): string {
    const encoded = randomBytes(96).toString('base64url');
    this.actionContext.authorizationMessages.set(encoded, JSON.stringify(decoded));
    return encoded;
  }

  /**
   * Turns the account's outbound identity federation on (the default) or off: while off, GetWebIdentityToken is
   * answered with OutboundWebIdentityFederationDisabledException, as before an admin enables it in IAM.
   */
  setOutboundWebIdentityFederation(enabled: boolean): void {
    this.outboundTokens.enabled = enabled;
  }

  /**
   * Organizations centralized root access of the organization whose management account is `baseIdentity`'s: while
   * off (the default), AssumeRoot is refused with AccessDenied; while on, it opens root sessions of `memberAccounts`.
   */
  setCentralizedRootAccess(enabled: boolean, memberAccounts: readonly string[] = []): void {
    this.actionContext.organization = { rootSessionsEnabled: enabled, memberAccounts: new Set(memberAccounts) };
  }

  /**
   * A trade-in token, as a customer's approval of a temporary delegation hands one to the partner: GetDelegatedAccessToken
   * exchanges it for a session of the role `principalArn` until it expires (then ExpiredTradeInTokenException).
   * Throws on an invalid role ARN.
   */
  issueTradeInToken(principalArn: string, expiresInSeconds = 300): string {
    if (!ROLE_ARN_PATTERN.test(principalArn)) throw new Error(`LocalStsServer: invalid role ARN ${principalArn}`);
    const token = randomBytes(48).toString('base64url');
    this.actionContext.tradeInTokens.set(token, { principalArn, expiresAt: this.now() + expiresInSeconds * 1000 });
    return token;
  }

  /** The public key GetWebIdentityToken's `RS256` or `ES384` tokens verify with (what a JWKS endpoint publishes). */
  webIdentityTokenPublicKey(algorithm: 'RS256' | 'ES384'): KeyObject {
    return this.outboundTokens.publicKey(algorithm);
  }

  /** Changes a role's settings (never its ARN). */
  updateRole(arn: string, patch: Partial<LocalStsRole>): void {
    this.roles.update(arn, patch);
  }

  /** Forgets a role. */
  removeRole(arn: string): void {
    this.roles.remove(arn);
  }

  /** Injects a fault into the next matching call(s); see LocalStsFaultOptions. */
  injectFault(fault: LocalStsFault, options: LocalStsFaultOptions = {}): void {
    this.faults.inject(fault, options);
  }

  /** Removes every injected fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** A copy of the calls answered (or abandoned) so far, oldest first. */
  get calls(): ReadonlyArray<LocalStsCall> {
    return this.callLog.map((c) => ({ ...c }));
  }

  /** Number of calls so far, of one action when given. */
  callCount(action?: string): number {
    return action === undefined ? this.callLog.length : this.callLog.filter((c) => c.action === action).length;
  }

  /** The most requests of `action` (of any action when not given) the server was handling at once, from body to answer. */
  peakInFlight(action?: string): number {
    return this.running.get(action ?? ANY_ACTION)?.peak ?? 0;
  }

  /** Empties the call log, and starts each action's peak in flight again from the requests running now. */
  resetCalls(): void {
    this.callLog.length = 0;
    for (const counter of this.running.values()) counter.peak = counter.now;
  }

  /** Forgets credentials it issued, as if AWS revoked them: they are then answered with InvalidClientTokenId. */
  revokeCredentials(accessKeyId: string): boolean {
    return this.credentials.revoke(accessKeyId);
  }

  /** Number of credential sets issued and not yet expired (by the server clock). */
  activeCredentialCount(): number {
    return this.credentials.activeCount();
  }

  /** Stops listening, cancels delays and destroys open connections; idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.delays.cancelAll();
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

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', noop);
    res.on('error', noop);
    this.handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        const requestId = randomUUID();
        sendXml(res, 500, errorXml(new LocalStsFailure('InternalFailure'), requestId), requestId, this.now);
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
        const err = validationFailure('Request body is too large.');
        sendXml(res, err.status, errorXml(err, requestId), requestId, this.now, { connection: 'close' });
      }
      req.destroy();
      return;
    }
    const request = parseQueryRequest(req, body);
    const counters = [request.action, ANY_ACTION].map((key) => {
      const counter = this.running.get(key) ?? { now: 0, peak: 0 };
      this.running.set(key, counter);
      counter.peak = Math.max(counter.peak, ++counter.now);
      return counter;
    });
    try {
      await this.answer(req, res, requestId, request);
    } finally {
      for (const counter of counters) counter.now--;
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse, requestId: string, request: StsQueryRequest): Promise<void> {
    const exchange = new StsExchange(req, res, requestId, request, this.now, (call) => this.callLog.push(call));

    const fault = this.faults.take(request.action);
    if (fault) {
      exchange.fault = fault.kind;
      const handled = await this.applyFault(exchange, fault);
      if (handled) return;
    }
    if (this.closed || res.destroyed) {
      exchange.abandon();
      return;
    }

    try {
      exchange.succeed(await this.dispatch(exchange));
    } catch (err) {
      exchange.fail(err instanceof LocalStsFailure ? err : new LocalStsFailure('InternalFailure'));
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
  private async applyFault(exchange: StsExchange, fault: LocalStsFault): Promise<boolean> {
    const { action, received } = exchange.request;
    const effect = faultEffect(fault, action, received.headers['x-amz-date'] ?? '', this.now);
    switch (effect.kind) {
      case 'error':
        exchange.fail(effect.failure, effect.headers);
        return true;
      case 'body':
        exchange.sendBody(effect.body);
        return true;
      case 'reset':
        exchange.abandon();
        exchange.req.socket.destroy();
        return true;
      case 'delay': {
        const elapsed = await this.delays.wait(effect.ms, exchange.res);
        if (!elapsed) {
          exchange.abandon();
          if (!exchange.res.destroyed) exchange.req.socket.destroy();
          return true;
        }
        return false;
      }
    }
  }

  private async dispatch(exchange: StsExchange): Promise<XmlNode> {
    const { action, params, received } = exchange.request;
    if (!action) throw new LocalStsFailure('MissingAction', 'Missing Action');
    const version = params.get('Version');
    if (!(SUPPORTED_ACTIONS as readonly string[]).includes(action) || version !== STS_API_VERSION) {
      throw new LocalStsFailure('InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`);
    }
    const sts = this.actionContext;
    switch (action as Action) {
      case 'AssumeRole':
        return actions.assumeRole(sts, params, await authenticate(this.authContext, received));
      case 'GetSessionToken':
        return actions.getSessionToken(sts, params, await authenticate(this.authContext, received));
      case 'GetCallerIdentity':
        return actions.getCallerIdentity(await authenticate(this.authContext, received));
      case 'AssumeRoleWithWebIdentity':
        return actions.assumeRoleWithWebIdentity(sts, params);
      case 'AssumeRoleWithSAML':
        return actions.assumeRoleWithSaml(sts, params);
      case 'DecodeAuthorizationMessage':
        await authenticate(this.authContext, received);
        return actions.decodeAuthorizationMessage(sts, params);
      case 'GetAccessKeyInfo':
        await authenticate(this.authContext, received);
        return actions.getAccessKeyInfo(sts, params);
      case 'GetWebIdentityToken':
        return this.outboundTokens.issue(params, await authenticate(this.authContext, received));
      case 'GetFederationToken':
        return actions.getFederationToken(sts, params, await authenticate(this.authContext, received));
      case 'AssumeRoot':
        return actions.assumeRoot(sts, params, await authenticate(this.authContext, received), this.baseIdentity.account);
      case 'GetDelegatedAccessToken':
        await authenticate(this.authContext, received);
        return actions.getDelegatedAccessToken(sts, params);
    }
  }
}
