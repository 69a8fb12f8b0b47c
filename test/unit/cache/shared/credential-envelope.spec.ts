/**
 * The shared tier's envelope, tested like an adversary with write access to Redis: every stored value is tampered
 * with, truncated, moved under another key or replaced by garbage, and must never open (nor throw); what does open
 * is exactly what was sealed; nothing stored names a secret, a role, an account or an ExternalId.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CredentialEnvelope, defaultKeyId, type SharedEncryptionKey } from '../../../../src/cache/shared/credential-envelope';
import { TemporaryCredentials } from '../../../../src/sts/temporary-credentials';
import { visibleText } from '../../../support/visible-text';

const SECRET = 'envelope-secret-access-key-SECRET-0001';
const TOKEN = 'envelope-session-token-TOKEN-IQoJb3JpZ2luX2VjEJr';
const ACCESS_KEY_ID = 'ASIAENVELOPETEST0001';
const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/TenantAccess`;
const EXTERNAL_ID = 'tenant-external-id-PLANTED-7f3a';
const PRINCIPAL = 'arn:aws:iam::111111111111:role/AppBaseRole';
const CANONICAL = JSON.stringify({ operation: 'AssumeRole', roleArn: ROLE_ARN, externalId: EXTERNAL_ID, durationSeconds: 3600 });
const PREFIX = 'nestjs-aws-sts:';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function credentials(overrides: Partial<ConstructorParameters<typeof TemporaryCredentials>[0]> = {}) {
  return new TemporaryCredentials(
    {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date('2030-01-02T03:04:05.678Z'),
      ...overrides,
    },
    {
      accountId: ACCOUNT,
      assumedRoleUser: {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccess/session-ü-1`,
        assumedRoleId: 'AROAEXAMPLEROLEID:session-ü-1',
      },
      sourceIdentity: 'alice@example.com',
      packedPolicySize: 42,
    },
  );
}

const envelopeWith = (key: Buffer | string = randomBytes(32), prefix = PREFIX) =>
  new CredentialEnvelope([{ id: defaultKeyId(key), key }], prefix);

/** A value sealed at the request's address, with the address. */
function sealedValue(envelope = envelopeWith()) {
  const [address] = envelope.addresses(PRINCIPAL, CANONICAL);
  return { envelope, address, value: envelope.seal(address, credentials()) };
}

/** Replaces the `index`-th dot-separated part of a sealed value. */
const withPart = (value: string, index: number, part: string) =>
  value
    .split('.')
    .map((old, i) => (i === index ? part : old))
    .join('.');

/** A base64url character whose top bit differs: always a data bit, so the decoded bytes change. */
const flipped = (char: string) => BASE64URL[(BASE64URL.indexOf(char) + 32) % 64];

describe('CredentialEnvelope round trip', () => {
  it('opens to a TemporaryCredentials with every field as sealed, the expiration a Date to the millisecond', () => {
    const { envelope, address, value } = sealedValue();
    const opened = envelope.open(address, value);
    expect(opened).toBeInstanceOf(TemporaryCredentials);
    expect(opened!.expiration).toBeInstanceOf(Date);
    expect(opened!.expiration.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    expect({ ...opened }).toEqual({ ...credentials() });
    expect(opened!.secretAccessKey).toBe(SECRET);
    expect(opened!.sessionToken).toBe(TOKEN);
  });

  it('credentials without details open without invented ones', () => {
    const envelope = envelopeWith();
    const [address] = envelope.addresses(PRINCIPAL, CANONICAL);
    const bare = new TemporaryCredentials({
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date(1_900_000_000_123),
    });
    const opened = envelope.open(address, envelope.seal(address, bare));
    for (const detail of ['accountId', 'assumedRoleUser', 'sourceIdentity', 'packedPolicySize'] as const)
      expect(opened![detail]).toBeUndefined();
    expect(JSON.stringify(opened)).toBe(JSON.stringify(bare));
    expect(opened!.expiration.getTime()).toBe(1_900_000_000_123);
  });

  it('what opens still redacts itself: JSON.stringify, inspect and template strings show no secret', () => {
    const { envelope, address, value } = sealedValue();
    const opened = envelope.open(address, value)!;
    for (const text of [JSON.stringify(opened), inspect(opened, { depth: Infinity }), `${opened}`, visibleText(opened)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(TOKEN);
    }
    expect(JSON.stringify(opened)).toContain(ACCESS_KEY_ID); // the redaction is not an empty string
  });

  it('two seals of the same credentials differ (a fresh IV each), and both open', () => {
    const { envelope, address } = sealedValue();
    const first = envelope.seal(address, credentials());
    const second = envelope.seal(address, credentials());
    expect(first).not.toBe(second);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(envelope.open(address, first)?.accessKeyId).toBe(ACCESS_KEY_ID);
    expect(envelope.open(address, second)?.accessKeyId).toBe(ACCESS_KEY_ID);
  });

  it('the stored text names no secret, access key id, role, account or source identity', () => {
    const { value } = sealedValue();
    for (const planted of [SECRET, TOKEN, ACCESS_KEY_ID, ROLE_ARN, ACCOUNT, 'TenantAccess', 'AROAEXAMPLEROLEID', 'alice@example.com']) {
      expect(value).not.toContain(planted);
      expect(Buffer.from(value.split('.')[3], 'base64url').toString('latin1')).not.toContain(planted);
    }
  });

  it('credentials whose shape is not ours do not open, even when authentic', () => {
    const envelope = envelopeWith();
    const [address] = envelope.addresses(PRINCIPAL, CANONICAL);
    const unusable = [
      { ...credentials(), expiration: { toISOString: () => 'not a date' } },
      { ...credentials(), secretAccessKey: undefined },
      { ...credentials(), sessionToken: 12 },
      { ...credentials(), accessKeyId: null },
    ];
    for (const shape of unusable)
      expect(envelope.open(address, envelope.seal(address, shape as unknown as TemporaryCredentials))).toBeUndefined();
  });
});

describe('CredentialEnvelope against tampering', () => {
  it('a changed byte anywhere in the IV, the ciphertext or the tag does not open', () => {
    const { envelope, address, value } = sealedValue();
    let tried = 0;
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(value.split('.')[index], 'base64url');
      for (let at = 0; at < bytes.length; at++) {
        for (const mask of [0x01, 0x80]) {
          const changed = Buffer.from(bytes);
          changed[at] ^= mask;
          expect(envelope.open(address, withPart(value, index, changed.toString('base64url')))).toBeUndefined();
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(2 * (12 + 16 + 100));
  });

  it('a changed character anywhere in the stored text does not open', () => {
    const { envelope, address, value } = sealedValue();
    for (let at = 0; at < value.length; at++) {
      const char = value[at];
      const replacement = char === '.' ? '_' : BASE64URL.includes(char) ? flipped(char) : char === 'v' ? 'w' : 'x';
      const changed = value.slice(0, at) + replacement + value.slice(at + 1);
      expect(changed).not.toBe(value);
      expect(envelope.open(address, changed)).toBeUndefined();
    }
  });

  it('the format and the key fingerprint are checked: another format, an unknown key, or another of its own keys does not open', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const envelope = new CredentialEnvelope(
      [
        { id: 'a', key: a },
        { id: 'b', key: b },
      ],
      PREFIX,
    );
    const [address] = envelope.addresses(PRINCIPAL, CANONICAL);
    const value = envelope.seal(address, credentials());
    expect(value.split('.').slice(0, 2)).toEqual(['v2', defaultKeyId(a)]);
    expect(envelope.open(address, value)).toBeDefined();
    for (const format of ['v1', 'v0', 'V2', '', 'v2 ']) expect(envelope.open(address, withPart(value, 0, format))).toBeUndefined();
    for (const id of [defaultKeyId(b), 'a', 'b', `${defaultKeyId(a)} `, '', 'c'])
      expect(envelope.open(address, withPart(value, 1, id))).toBeUndefined();
  });

  it('a value opens only at the generation it was sealed for: nothing sealed before an invalidation is adopted after it', () => {
    const { envelope, address } = sealedValue();
    const value = envelope.seal(address, credentials(), '3');
    expect(envelope.open(address, value, '3')?.accessKeyId).toBe(ACCESS_KEY_ID);
    for (const generation of ['4', '0', '', '30']) expect(envelope.open(address, value, generation)).toBeUndefined();
  });

  it('names a key by its bytes, not its configured id: a key alone and the same key in a rotation list are one key', () => {
    const key = randomBytes(32);
    const alone = new CredentialEnvelope([{ id: defaultKeyId(key), key }], PREFIX);
    const listed = new CredentialEnvelope(
      [
        { id: 'k2', key: randomBytes(32) },
        { id: 'k1', key },
      ],
      PREFIX,
    );
    const [address] = alone.addresses(PRINCIPAL, CANONICAL);
    expect(listed.addresses(PRINCIPAL, CANONICAL)[1]).toBe(address);
    expect(listed.open(address, alone.seal(address, credentials()))?.accessKeyId).toBe(ACCESS_KEY_ID);
  });

  it('every truncation, and every added part, does not open', () => {
    const { envelope, address, value } = sealedValue();
    for (let length = 0; length < value.length; length++) expect(envelope.open(address, value.slice(0, length))).toBeUndefined();
    for (const extra of [
      `${value}.`,
      `${value}.AAAA`,
      `v1.${value.slice(3)}.x`,
      `${value.split('.').slice(0, 4).join('.')}..${value.split('.')[4]}`,
    ]) {
      expect(envelope.open(address, extra)).toBeUndefined();
    }
    const [format, id, iv, sealed, tag] = value.split('.');
    for (const missing of [
      [format, id, iv, sealed],
      [format, id, iv, tag],
      [format, id, sealed, tag],
      [format, iv, sealed, tag],
      [id, iv, sealed, tag],
    ]) {
      expect(envelope.open(address, missing.join('.'))).toBeUndefined();
    }
  });

  it('a tag cut to 12, 8 or 4 bytes (which GCM would check as a shorter tag) does not open', () => {
    const { envelope, address, value } = sealedValue();
    const tag = Buffer.from(value.split('.')[4], 'base64url');
    for (const bytes of [12, 8, 4])
      expect(envelope.open(address, withPart(value, 4, tag.subarray(0, bytes).toString('base64url')))).toBeUndefined();
  });

  it('an empty IV, ciphertext or tag does not open', () => {
    const { envelope, address, value } = sealedValue();
    for (const index of [2, 3, 4]) expect(envelope.open(address, withPart(value, index, ''))).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a boolean', true],
    ['a Buffer of the value', 'buffer'],
    ['an object', { value: 'v1.a.b.c.d' }],
    ['a String object', 'string-object'],
    ['an empty string', ''],
    [
      'a JSON string of credentials',
      JSON.stringify({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN, expiration: '2030-01-01T00:00:00Z' }),
    ],
    ['five dots', '.....'],
    ['the format alone', 'v1'],
    ['well-formed parts of garbage', 'v1.k.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA'],
  ])('%s does not open, and does not throw', (_name, raw) => {
    const { envelope, address, value } = sealedValue();
    const input = raw === 'buffer' ? Buffer.from(value) : raw === 'string-object' ? new String(value) : raw;
    expect(() => envelope.open(address, input)).not.toThrow();
    expect(envelope.open(address, input)).toBeUndefined();
  });

  it('random garbage never opens nor throws', () => {
    const { envelope, address, value } = sealedValue();
    const [format, id] = value.split('.');
    for (let i = 0; i < 300; i++) {
      const noise = randomBytes(1 + (i % 200));
      for (const garbage of [
        noise.toString('latin1'),
        noise.toString('base64url'),
        `${format}.${id}.${noise.toString('base64url')}.${randomBytes(i % 50).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
      ]) {
        expect(() => envelope.open(address, garbage)).not.toThrow();
        expect(envelope.open(address, garbage)).toBeUndefined();
      }
    }
  });

  it("a value copied under another request's address (another tenant's key) does not open there", () => {
    const { envelope, address, value } = sealedValue();
    const [otherTenant] = envelope.addresses(PRINCIPAL, CANONICAL.replace(ACCOUNT, '210987654321'));
    const [otherPrincipal] = envelope.addresses('arn:aws:iam::222222222222:role/OtherApp', CANONICAL);
    for (const elsewhere of [otherTenant, otherPrincipal, `${address}:lock`, address.toUpperCase(), '']) {
      expect(elsewhere).not.toBe(address);
      expect(envelope.open(elsewhere, value)).toBeUndefined();
    }
    expect(envelope.open(address, value)).toBeDefined();
  });
});

describe('CredentialEnvelope keys', () => {
  it('another encryption key under the same explicit id does not open, at any address', () => {
    const sealer = new CredentialEnvelope([{ id: 'k', key: randomBytes(32) }], PREFIX);
    const other = new CredentialEnvelope([{ id: 'k', key: randomBytes(32) }], PREFIX);
    const [address] = sealer.addresses(PRINCIPAL, CANONICAL);
    const value = sealer.seal(address, credentials());
    expect(other.open(address, value)).toBeUndefined();
    expect(other.open(other.addresses(PRINCIPAL, CANONICAL)[0], value)).toBeUndefined();
  });

  it('another encryption key with its default id does not open', () => {
    const { address, value } = sealedValue();
    expect(envelopeWith().open(address, value)).toBeUndefined();
  });

  it('one key as base64 text and as a Buffer is one key: same id, same addresses, each opens what the other sealed', () => {
    const key = randomBytes(32);
    const fromText = envelopeWith(key.toString('base64'));
    const fromBuffer = envelopeWith(key);
    expect(defaultKeyId(key.toString('base64'))).toBe(defaultKeyId(key));
    expect(fromText.addresses(PRINCIPAL, CANONICAL)).toEqual(fromBuffer.addresses(PRINCIPAL, CANONICAL));
    const [address] = fromText.addresses(PRINCIPAL, CANONICAL);
    expect(fromBuffer.open(address, fromText.seal(address, credentials()))?.secretAccessKey).toBe(SECRET);
    expect(fromText.open(address, fromBuffer.seal(address, credentials()))?.secretAccessKey).toBe(SECRET);
  });

  describe('rotation', () => {
    const oldKey: SharedEncryptionKey = { id: 'old', key: randomBytes(32) };
    const newKey: SharedEncryptionKey = { id: 'new', key: randomBytes(32) };
    const before = new CredentialEnvelope([oldKey], PREFIX);
    const during = new CredentialEnvelope([newKey, oldKey], PREFIX);

    it('names one address per key, the sealing key first, the old key at the address replicas with [old] use', () => {
      const addresses = during.addresses(PRINCIPAL, CANONICAL);
      expect(addresses).toHaveLength(2);
      expect(addresses[1]).toBe(before.addresses(PRINCIPAL, CANONICAL)[0]);
      expect(addresses[0]).toBe(new CredentialEnvelope([newKey], PREFIX).addresses(PRINCIPAL, CANONICAL)[0]);
      expect(addresses[0]).not.toBe(addresses[1]);
    });

    it('[new, old] opens what [old] sealed at its address, and seals with the new key', () => {
      const [oldAddress] = before.addresses(PRINCIPAL, CANONICAL);
      expect(during.open(oldAddress, before.seal(oldAddress, credentials()))?.sessionToken).toBe(TOKEN);
      const [newAddress] = during.addresses(PRINCIPAL, CANONICAL);
      const sealed = during.seal(newAddress, credentials());
      expect(sealed.split('.')[1]).toBe(defaultKeyId(newKey.key));
      expect(new CredentialEnvelope([newKey], PREFIX).open(newAddress, sealed)?.sessionToken).toBe(TOKEN);
    });

    it('[old] cannot open what [new, old] sealed, at either address', () => {
      const addresses = during.addresses(PRINCIPAL, CANONICAL);
      for (const address of addresses) {
        const sealed = during.seal(address, credentials());
        for (const at of [...addresses, ...before.addresses(PRINCIPAL, CANONICAL)]) expect(before.open(at, sealed)).toBeUndefined();
      }
    });

    it('a value opens only at the address it was sealed for, whichever key sealed it', () => {
      const [newAddress] = during.addresses(PRINCIPAL, CANONICAL);
      expect(during.open(newAddress, before.seal(newAddress, credentials()))?.accessKeyId).toBe(ACCESS_KEY_ID); // the old key opens wherever it sealed
      const [oldAddress] = before.addresses(PRINCIPAL, CANONICAL);
      expect(during.open(newAddress, before.seal(oldAddress, credentials()))).toBeUndefined(); // but not moved
    });
  });
});

describe('CredentialEnvelope addresses', () => {
  const key = randomBytes(32);
  const envelope = envelopeWith(key);

  it('are deterministic for a (principal, canonical request), across envelopes of the same key', () => {
    expect(envelope.addresses(PRINCIPAL, CANONICAL)).toEqual(envelope.addresses(PRINCIPAL, CANONICAL));
    expect(envelopeWith(key).addresses(PRINCIPAL, CANONICAL)).toEqual(envelope.addresses(PRINCIPAL, CANONICAL));
  });

  it('differ by principal, by canonical request, by encryption key and by prefix', () => {
    const [address] = envelope.addresses(PRINCIPAL, CANONICAL);
    const others = [
      envelope.addresses('arn:aws:iam::111111111112:role/AppBaseRole', CANONICAL)[0],
      envelope.addresses(PRINCIPAL, CANONICAL.replace(EXTERNAL_ID, `${EXTERNAL_ID}x`))[0],
      envelope.addresses(PRINCIPAL, `${CANONICAL} `)[0],
      envelopeWith().addresses(PRINCIPAL, CANONICAL)[0],
      envelopeWith(key, 'app-b:').addresses(PRINCIPAL, CANONICAL)[0],
    ];
    expect(new Set([address, ...others]).size).toBe(others.length + 1);
  });

  it('start with the prefix and contain nothing of the principal or the request', () => {
    for (const prefix of [PREFIX, 'tenant-cache/', 'x']) {
      for (const address of new CredentialEnvelope(
        [
          { id: 'a', key },
          { id: 'b', key: randomBytes(32) },
        ],
        prefix,
      ).addresses(PRINCIPAL, CANONICAL)) {
        expect(address.startsWith(prefix)).toBe(true);
        const rest = address.slice(prefix.length);
        expect(rest).toMatch(/^\{[A-Za-z0-9_-]+\}$/); // a hash tag: a request's keys share a Cluster slot
        for (const planted of [
          ROLE_ARN,
          ACCOUNT,
          '111111111111',
          EXTERNAL_ID,
          'PLANTED',
          'TenantAccess',
          'AppBaseRole',
          'AssumeRole',
          'arn:',
          'iam',
        ])
          expect(rest).not.toContain(planted);
      }
    }
  });

  it('one per key, in the order of the keys', () => {
    const keys = Array.from({ length: 5 }, (_, i) => ({ id: `k${i}`, key: randomBytes(32) }));
    const addresses = new CredentialEnvelope(keys, PREFIX).addresses(PRINCIPAL, CANONICAL);
    expect(addresses).toHaveLength(5);
    expect(new Set(addresses).size).toBe(5);
    keys.forEach((entry, i) => expect(addresses[i]).toBe(new CredentialEnvelope([entry], PREFIX).addresses(PRINCIPAL, CANONICAL)[0]));
  });
});

describe('defaultKeyId', () => {
  it('is stable, a valid key id, different per key, and reveals nothing of the key', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(32);
      const id = defaultKeyId(key);
      expect(defaultKeyId(Buffer.from(key))).toBe(id);
      expect(defaultKeyId(key.toString('base64'))).toBe(id);
      expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(id).not.toBe(defaultKeyId(randomBytes(32)));
      for (const text of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
        expect(text).not.toContain(id);
        for (let at = 0; at + 8 <= id.length; at++) expect(text).not.toContain(id.slice(at, at + 8));
      }
    }
  });

  it('is not the key of a recognisable key either (all zeros, all 0xff, counting bytes)', () => {
    for (const key of [Buffer.alloc(32), Buffer.alloc(32, 0xff), Buffer.from(Array.from({ length: 32 }, (_, i) => i))]) {
      const id = defaultKeyId(key);
      expect(key.toString('hex')).not.toContain(id.slice(0, 6));
      expect(key.toString('base64')).not.toContain(id.slice(0, 6));
    }
    expect(defaultKeyId(Buffer.alloc(32))).not.toBe(defaultKeyId(Buffer.alloc(32, 0xff)));
  });
});
