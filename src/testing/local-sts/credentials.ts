/**
 * Every key the local STS knows: the long-term base identities it was started with, and the temporary
 * credentials (access key, secret, session token, expiry) it issues, tracks and can revoke.
 */
import { createHash, randomBytes } from 'node:crypto';
import { roleAccount, roleName } from './role-arn.js';

/** A long-term identity (an IAM user's access key) that signs requests. */
export interface LocalStsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  arn: string;
  account: string;
  userId: string;
}

/** The identity a server has when none is configured. */
export const DEFAULT_LOCAL_STS_IDENTITY: Readonly<LocalStsIdentity> = Object.freeze({
  accessKeyId: 'AKIALOCALSTS00000001',
  secretAccessKey: 'localStsSecretAccessKey00000000000000000',
  arn: 'arn:aws:iam::111111111111:user/local-test',
  account: '111111111111',
  userId: 'AIDALOCALSTS00000001',
});

/** Temporary credentials the server issued. */
export interface IssuedCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  kind: 'assumed-role' | 'session' | 'federated-user' | 'root';
  account: string;
  /** Caller ARN (assumed-role session ARN, or the base identity ARN for GetSessionToken). */
  arn: string;
  userId: string;
  roleArn?: string;
  mfaAuthenticated: boolean;
  sourceIdentity?: string;
}

/** Who signed a request: a base identity, or credentials the server issued. */
export type Caller = { kind: 'identity'; identity: LocalStsIdentity } | { kind: 'issued'; cred: IssuedCredential };

const MAX_ISSUED_CREDENTIALS = 10_000;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += BASE32[bytes[i % bytes.length]! & 31];
  return out;
}

/** A stable `AROA…` role id derived from the role ARN. */
function roleId(roleArn: string): string {
  return 'AROA' + base32(createHash('sha256').update(roleArn).digest(), 17);
}

type IssueSpec = Omit<IssuedCredential, 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'expiresAt'> & { seconds: number };

/** Base identities by access key id, and the credentials issued so far (the oldest forgotten beyond 10,000). */
export class CredentialStore {
  /** The first configured identity (a copy of it). */
  readonly baseIdentity: LocalStsIdentity;
  private readonly identities = new Map<string, LocalStsIdentity>();
  private readonly issued = new Map<string, IssuedCredential>();

  /** Throws when an identity has no key or two share an access key id. */
  constructor(
    identities: LocalStsIdentity[] | undefined,
    private readonly now: () => number,
  ) {
    const list = identities?.length ? identities : [{ ...DEFAULT_LOCAL_STS_IDENTITY }];
    for (const identity of list) {
      if (!identity.accessKeyId || !identity.secretAccessKey) {
        throw new Error('LocalStsServer: identities need an accessKeyId and a secretAccessKey');
      }
      if (this.identities.has(identity.accessKeyId)) {
        throw new Error(`LocalStsServer: duplicate identity access key id ${identity.accessKeyId}`);
      }
      this.identities.set(identity.accessKeyId, { ...identity });
    }
    this.baseIdentity = { ...list[0]! };
  }

  /** The base identity with this access key id. */
  identity(accessKeyId: string): LocalStsIdentity | undefined {
    return this.identities.get(accessKeyId);
  }

  /** Issued credentials with this access key id, expired ones included; undefined once revoked. */
  issuedCredential(accessKeyId: string): IssuedCredential | undefined {
    return this.issued.get(accessKeyId);
  }

  /** Issues the credentials of a session of `roleArn` named `sessionName`. */
  issueAssumedRole(
    roleArn: string,
    sessionName: string,
    seconds: number,
    extra: { mfaAuthenticated: boolean; sourceIdentity?: string },
  ): IssuedCredential {
    const account = roleAccount(roleArn);
    return this.issue({
      kind: 'assumed-role',
      seconds,
      account,
      arn: `arn:aws:sts::${account}:assumed-role/${roleName(roleArn)}/${sessionName}`,
      userId: `${roleId(roleArn)}:${sessionName}`,
      roleArn,
      ...extra,
    });
  }

  /** Issues GetSessionToken credentials of a base identity. */
  issueSession(identity: LocalStsIdentity, seconds: number, mfaAuthenticated: boolean): IssuedCredential {
    return this.issue({
      kind: 'session',
      seconds,
      account: identity.account,
      arn: identity.arn,
      userId: identity.userId,
      mfaAuthenticated,
    });
  }

  /** Issues GetFederationToken credentials of a base identity for the federated user `name`. */
  issueFederated(identity: LocalStsIdentity, name: string, seconds: number): IssuedCredential {
    return this.issue({
      kind: 'federated-user',
      seconds,
      account: identity.account,
      arn: `arn:aws:sts::${identity.account}:federated-user/${name}`,
      userId: `${identity.account}:${name}`,
      mfaAuthenticated: false,
    });
  }

  /** Issues AssumeRoot credentials: the root user of the member account `account`. */
  issueRoot(account: string, seconds: number): IssuedCredential {
    return this.issue({ kind: 'root', seconds, account, arn: `arn:aws:iam::${account}:root`, userId: account, mfaAuthenticated: false });
  }

  /** Forgets issued credentials, as if AWS revoked them; true when they were known. */
  revoke(accessKeyId: string): boolean {
    return this.issued.delete(accessKeyId);
  }

  /** Number of issued credential sets not yet expired (by the server clock). */
  activeCount(): number {
    const now = this.now();
    let n = 0;
    for (const cred of this.issued.values()) if (cred.expiresAt > now) n++;
    return n;
  }

  private issue(spec: IssueSpec): IssuedCredential {
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
}
