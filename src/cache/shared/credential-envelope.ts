import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { TemporaryCredentials, type TemporaryCredentialsDetails } from '../../sts/temporary-credentials.js';

/** One encryption key of the shared tier, with the id it is configured under. */
export interface SharedEncryptionKey {
  /**
   * Your name for the key (1–64 of `[A-Za-z0-9_-]`), for your config only: stored values name their key by a
   * fingerprint derived from the key itself, so a key configured alone and the same key in a rotation list are one key.
   */
  id: string;
  /** 32 bytes: a Buffer, or their base64 text. */
  key: string | Buffer;
}

/** A key with what is derived from it: never the key itself, so nothing downstream can leak it. */
interface DerivedKey {
  /** Names the key in stored values: derived from the key bytes, whatever id the config gives it. */
  fingerprint: string;
  /** AES-256-GCM key of the values. */
  cipher: Buffer;
  /** HMAC-SHA256 key of the Redis key names. */
  address: Buffer;
}

/** v2: addresses carry a hash tag, and a value opens only at the generation of its request it was sealed for. */
const FORMAT = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Distinct keys for distinct uses (RFC 5869), so the cipher key and the key that names entries are independent. */
function derive(key: Buffer, use: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `nestjs-aws-sts shared tier ${use}`, 32));
}

/** The 32 key bytes of a configured key (already validated), as a Buffer. */
export function keyBytes(key: string | Buffer): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.from(key);
}

/**
 * A key's fingerprint, and the id of a key configured alone: derived from the key, stable across replicas, and says
 * nothing about the key.
 */
export function defaultKeyId(key: string | Buffer): string {
  return derive(keyBytes(key), 'key id').toString('hex').slice(0, 12);
}

/**
 * Seals credentials for the shared tier and opens them again: AES-256-GCM with a fresh IV per value, the Redis key,
 * the key's fingerprint and the request's generation (bumped by every invalidation) as associated data, so a value
 * copied under another key, altered, sealed with another encryption key, or sealed before an invalidation does not
 * open. Redis keys are an HMAC of the base principal and the canonical request, so nothing stored names a role, an
 * account or an ExternalId; each is a Redis Cluster hash tag (`{…}`), so a request's value, lock and generation share
 * a slot.
 *
 * With several keys the first seals; every key opens, and each names its own address for a request, so that a
 * replica with `[new, old]` still finds what replicas with `[old]` stored.
 */
export class CredentialEnvelope {
  readonly #keys: DerivedKey[];

  constructor(
    keys: SharedEncryptionKey[],
    private readonly keyPrefix: string,
  ) {
    this.#keys = keys.map(({ key }) => {
      const bytes = keyBytes(key);
      return { fingerprint: defaultKeyId(bytes), cipher: derive(bytes, 'values'), address: derive(bytes, 'addresses') };
    });
  }

  /** The Redis keys of a request for each encryption key, the sealing key's first: `<prefix>{<HMAC>}`. */
  addresses(principal: string, canonical: string): string[] {
    const hmac = (key: Buffer) => createHmac('sha256', key).update(`${principal}\n${canonical}`).digest('base64url');
    return this.#keys.map(({ address }) => `${this.keyPrefix}{${hmac(address)}}`);
  }

  /**
   * Names credentials in the fleet's log without showing them: an HMAC of the access key id under the address key of
   * `addresses(…)[keyIndex]`, so only an instance with that key can tell whether it holds them.
   */
  accessKeyTag(keyIndex: number, address: string, accessKeyId: string): string {
    return createHmac('sha256', this.#keys[keyIndex].address)
      .update(`access key\n${address}\n${accessKeyId}`)
      .digest('base64url')
      .slice(0, 22);
  }

  /** The value stored under `address` at `generation`: `v2.<key fingerprint>.<iv>.<ciphertext>.<tag>`, base64url parts. */
  seal(address: string, credentials: TemporaryCredentials, generation = '0'): string {
    const { fingerprint, cipher } = this.#keys[0];
    const iv = randomBytes(IV_BYTES);
    const aes = createCipheriv('aes-256-gcm', cipher, iv);
    aes.setAAD(Buffer.from(`${FORMAT}.${fingerprint}.${address}.${generation}`));
    const sealed = Buffer.concat([aes.update(JSON.stringify(plaintextOf(credentials)), 'utf8'), aes.final()]);
    return [FORMAT, fingerprint, iv.toString('base64url'), sealed.toString('base64url'), aes.getAuthTag().toString('base64url')].join('.');
  }

  /**
   * The credentials stored under `address`, or undefined for anything that does not open (never throws) — a value
   * sealed at another `generation` included.
   */
  open(address: string, value: unknown, generation = '0'): TemporaryCredentials | undefined {
    if (typeof value !== 'string') return undefined;
    const [format, fingerprint, iv, sealed, tag, ...rest] = value.split('.');
    const key = this.#keys.find((candidate) => candidate.fingerprint === fingerprint);
    if (format !== FORMAT || key === undefined || rest.length > 0 || tag === undefined) return undefined;
    try {
      const aes = createDecipheriv('aes-256-gcm', key.cipher, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      aes.setAAD(Buffer.from(`${FORMAT}.${fingerprint}.${address}.${generation}`));
      aes.setAuthTag(Buffer.from(tag, 'base64url'));
      const plaintext = Buffer.concat([aes.update(Buffer.from(sealed, 'base64url')), aes.final()]).toString('utf8');
      return credentialsOf(JSON.parse(plaintext));
    } catch {
      return undefined;
    }
  }
}

type Plaintext = { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string } & TemporaryCredentialsDetails;

function plaintextOf(credentials: TemporaryCredentials): Plaintext {
  // Field by field: the credentials redact themselves for JSON.stringify.
  const { accessKeyId, secretAccessKey, sessionToken, expiration, accountId, assumedRoleUser, sourceIdentity, packedPolicySize } =
    credentials;
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration: expiration.toISOString(),
    accountId,
    assumedRoleUser,
    sourceIdentity,
    packedPolicySize,
  };
}

/** Credentials from an opened value, or undefined when its shape is not ours (an authentic value from a future format). */
function credentialsOf(plain: Partial<Plaintext> | null): TemporaryCredentials | undefined {
  if (typeof plain !== 'object' || plain === null) return undefined;
  const { accessKeyId, secretAccessKey, sessionToken, expiration, accountId, assumedRoleUser, sourceIdentity, packedPolicySize } = plain;
  const expiresAt = new Date(expiration ?? NaN);
  if (
    typeof accessKeyId !== 'string' ||
    typeof secretAccessKey !== 'string' ||
    typeof sessionToken !== 'string' ||
    Number.isNaN(expiresAt.getTime())
  )
    return undefined;
  return new TemporaryCredentials(
    { accessKeyId, secretAccessKey, sessionToken, expiration: expiresAt },
    { accountId, assumedRoleUser, sourceIdentity, packedPolicySize },
  );
}
