/**
 * Well-formed STS answers made up in process: what the fakes of the testing kit (`fakeStsClient`,
 * `stsClientMockAnswers`, `fakeStsService`) answer each operation with — fresh random keys, an expiry the request's
 * duration away, and the session facts STS returns (assumed-role ARN and id, source identity, the web identity and
 * SAML fields). Nothing is checked: to test refusals (trust, ExternalId, MFA), throttling and expiry end to end, use
 * the local STS (`startLocalSts`).
 */
import type { RequestTenantOptions } from '../tenant/request-tenant-options.js';
import { randomBytes } from 'node:crypto';
import type { StsOperation } from '../errors/sts-error.js';

/** Who the fakes say the base identity is (what GetCallerIdentity answers). */
export interface FakeStsIdentity {
  /** 12-digit account id. Default: '123456789012'. */
  account: string;
  /** The caller's ARN. Default: `arn:aws:iam::<account>:user/app`. */
  arn: string;
  /** The caller's unique id. Default: 'AIDAFAKEBASEIDENTITY'. */
  userId: string;
}

/** Options of the fakes' answers. */
export interface FakeStsOptions {
  /** The base identity; fields not given take their defaults (see FakeStsIdentity). */
  identity?: Partial<FakeStsIdentity>;
  /** The clock expirations are counted from, epoch ms. Default: `Date.now`. */
  now?: () => number;
  /**
   * How a request maps to its tenant's role, as the module's `tenant` option: `FakeStsService.current` answers
   * through it inside a request bound by `StsTenantMiddleware` (or nestjs-cls), and refuses with `NoRequestTenant`
   * outside one, as the real service does. Default: none (`current` refuses).
   */
  tenant?: RequestTenantOptions;
}

/** The STS operations the fakes answer. */
export type FakedStsOperation = Exclude<StsOperation, 'Configuration'>;

/** The account an ARN names (its fifth field; empty when it has none). */
export const accountOf = (arn: string) => arn.split(':')[4] ?? '';

/** The answer to one STS command, as the SDK's `send` resolves it. */
export type StsAnswer = Record<string, unknown>;

const DEFAULT_ACCOUNT = '123456789012';
const DEFAULT_ROLE_SECONDS = 3600;
const DEFAULT_SESSION_TOKEN_SECONDS = 43_200;
const DEFAULT_ROOT_SESSION_SECONDS = 900;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

/** The identity with its defaults filled in. */
export function fakeIdentity(options: FakeStsOptions = {}): FakeStsIdentity {
  const account = options.identity?.account ?? DEFAULT_ACCOUNT;
  return { account, arn: `arn:aws:iam::${account}:user/app`, userId: 'AIDAFAKEBASEIDENTITY', ...options.identity };
}

/** `prefix` and `length` random upper-case hex characters, shaped like an access key id. */
const randomKey = (prefix: string, length: number) => prefix + randomBytes(length).toString('hex').toUpperCase().slice(0, length);

function credentials(durationSeconds: unknown, defaultSeconds: number, now: () => number) {
  const seconds = typeof durationSeconds === 'number' ? durationSeconds : defaultSeconds;
  return {
    AccessKeyId: randomKey('ASIA', 16),
    SecretAccessKey: randomBytes(30).toString('base64'),
    SessionToken: `FakeSessionToken/${randomBytes(48).toString('base64')}`,
    Expiration: new Date(now() + seconds * 1000),
  };
}

/** The session STS makes of a role: its assumed-role ARN and id. */
function assumedRoleUser(roleArn: unknown, sessionName: string) {
  const [, account = DEFAULT_ACCOUNT, role = 'FakeRole'] = ROLE_ARN.exec(String(roleArn)) ?? [];
  return { Arn: `arn:aws:sts::${account}:assumed-role/${role}/${sessionName}`, AssumedRoleId: `AROAFAKEROLEID000000:${sessionName}` };
}

/** The decoded message of an implicit deny of the fake identity, as DecodeAuthorizationMessage answers it. */
function fakeDecodedMessage(options: FakeStsOptions) {
  const { arn, userId } = fakeIdentity(options);
  return {
    allowed: false,
    explicitDeny: false,
    matchedStatements: { items: [] },
    failures: { items: [] },
    context: { principal: { id: userId, arn }, action: 'fake:Action', resource: 'arn:aws:fake:::resource', conditions: { items: [] } },
  };
}

/** The answer to `operation` for a command's input. */
export function stsAnswer(operation: FakedStsOperation, input: Record<string, unknown>, options: FakeStsOptions = {}): StsAnswer {
  const now = options.now ?? Date.now;
  const sessionName = String(input.RoleSessionName ?? 'fake-session');
  const role = () => ({
    Credentials: credentials(input.DurationSeconds, DEFAULT_ROLE_SECONDS, now),
    AssumedRoleUser: assumedRoleUser(input.RoleArn, sessionName),
  });
  switch (operation) {
    case 'GetCallerIdentity': {
      const { account, arn, userId } = fakeIdentity(options);
      return { Account: account, Arn: arn, UserId: userId };
    }
    case 'GetSessionToken':
      return { Credentials: credentials(input.DurationSeconds, DEFAULT_SESSION_TOKEN_SECONDS, now) };
    case 'AssumeRole':
      return { ...role(), ...(input.SourceIdentity === undefined ? {} : { SourceIdentity: input.SourceIdentity }) };
    case 'AssumeRoleWithWebIdentity':
      return { ...role(), SubjectFromWebIdentityToken: 'fake-subject', Audience: 'fake-audience', Provider: 'fake-provider.example.com' };
    case 'AssumeRoleWithSAML':
      return {
        ...role(),
        Subject: 'fake-subject',
        SubjectType: 'persistent',
        Issuer: 'https://idp.example.com/saml',
        Audience: 'https://signin.aws.amazon.com/saml',
        NameQualifier: 'FakeNameQualifier',
      };
    case 'DecodeAuthorizationMessage':
      return { DecodedMessage: JSON.stringify(fakeDecodedMessage(options)) };
    case 'GetAccessKeyInfo':
      return { Account: fakeIdentity(options).account };
    case 'GetWebIdentityToken':
      return {
        WebIdentityToken: `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ aud: input.Audience })).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
        Expiration: new Date(now() + Number(input.DurationSeconds ?? 300) * 1000),
      };
    case 'GetFederationToken': {
      const { account } = fakeIdentity(options);
      const name = String(input.Name ?? 'fake-user');
      return {
        Credentials: credentials(input.DurationSeconds, DEFAULT_SESSION_TOKEN_SECONDS, now),
        FederatedUser: { Arn: `arn:aws:sts::${account}:federated-user/${name}`, FederatedUserId: `${account}:${name}` },
      };
    }
    case 'AssumeRoot':
      return { Credentials: credentials(input.DurationSeconds, DEFAULT_ROOT_SESSION_SECONDS, now) };
    case 'GetDelegatedAccessToken':
      return {
        Credentials: credentials(undefined, DEFAULT_ROLE_SECONDS, now),
        AssumedPrincipal: `arn:aws:iam::${DEFAULT_ACCOUNT}:role/FakeDelegatedRole`,
      };
  }
}
