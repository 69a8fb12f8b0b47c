/**
 * GetWebIdentityToken of the local STS: JWTs signed with a key pair per algorithm (RS256, ES384), made on first use,
 * whose claims say who asked (`sub`), for whom (`aud`) and until when (`exp`).
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Caller } from './credentials.js';
import { principalOf } from './iam-rules.js';
import { parseDuration } from './query-parameters.js';
import { LocalStsFailure, validationFailure, type XmlNode } from './wire-format.js';

const ALGORITHMS = {
  RS256: { hash: 'sha256', dsaEncoding: undefined },
  ES384: { hash: 'sha384', dsaEncoding: 'ieee-p1363' },
} as const;
type Algorithm = keyof typeof ALGORITHMS;

/** The issuer of the local STS's tokens. */
export const LOCAL_TOKEN_ISSUER = 'https://local-sts.tokens.sts.global.api.aws';

/** Signs the local STS's outbound tokens; knows whether the account enabled outbound federation. */
export class OutboundTokens {
  /** False answers every GetWebIdentityToken with OutboundWebIdentityFederationDisabledException. */
  enabled = true;
  private readonly keys = new Map<Algorithm, { privateKey: KeyObject; publicKey: KeyObject }>();

  constructor(private readonly now: () => number) {}

  /** The public key tokens signed with `algorithm` verify with. */
  publicKey(algorithm: Algorithm): KeyObject {
    return this.keyPair(algorithm).publicKey;
  }

  /** GetWebIdentityToken, signed by `caller`. */
  issue(params: URLSearchParams, caller: Caller): XmlNode {
    const audiences = [...params.keys()].filter((key) => /^Audience\.member\.\d+$/.test(key)).map((key) => params.get(key) as string);
    if (audiences.length === 0) {
      throw validationFailure(
        "1 validation error detected: Value null at 'audience' failed to satisfy constraint: Member must not be null",
      );
    }
    const algorithm = params.get('SigningAlgorithm');
    if (algorithm !== 'RS256' && algorithm !== 'ES384') {
      throw validationFailure(
        "1 validation error detected: Value at 'signingAlgorithm' failed to satisfy constraint: Member must be RS256 or ES384",
      );
    }
    const seconds = parseDuration(params.get('DurationSeconds'), 60, 3600) ?? 300;
    if (!this.enabled) throw new LocalStsFailure('OutboundWebIdentityFederationDisabledException');
    const now = this.now();
    if (caller.kind === 'issued' && now + seconds * 1000 > caller.cred.expiresAt)
      throw new LocalStsFailure('SessionDurationEscalationException');

    const tags: Record<string, string> = {};
    for (let n = 1; params.has(`Tags.member.${n}.Key`); n++)
      tags[params.get(`Tags.member.${n}.Key`) as string] = params.get(`Tags.member.${n}.Value`) ?? '';
    const expiresAt = Math.floor(now / 1000) + seconds;
    const claims = {
      iss: LOCAL_TOKEN_ISSUER,
      sub: principalOf(caller).arn,
      aud: audiences.length === 1 ? audiences[0] : audiences,
      iat: Math.floor(now / 1000),
      exp: expiresAt,
      jti: randomUUID(),
      ...(params.get('Scope') === null ? {} : { scope: params.get('Scope') }),
      ...(Object.keys(tags).length === 0 ? {} : { request_tags: tags }),
    };
    return { WebIdentityToken: this.sign(algorithm, claims), Expiration: new Date(expiresAt * 1000).toISOString() };
  }

  private sign(algorithm: Algorithm, claims: Record<string, unknown>): string {
    const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const signingInput = `${encode({ alg: algorithm, typ: 'JWT', kid: `local-${algorithm}` })}.${encode(claims)}`;
    const { hash, dsaEncoding } = ALGORITHMS[algorithm];
    const key = this.keyPair(algorithm).privateKey;
    const signature = sign(hash, Buffer.from(signingInput), dsaEncoding ? { key, dsaEncoding } : key);
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  private keyPair(algorithm: Algorithm): { privateKey: KeyObject; publicKey: KeyObject } {
    let pair = this.keys.get(algorithm);
    if (!pair) {
      pair =
        algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-384' });
      this.keys.set(algorithm, pair);
    }
    return pair;
  }
}
