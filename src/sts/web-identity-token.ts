import { inspect } from 'node:util';

/**
 * A JSON Web Token STS signed for the base identity (GetWebIdentityToken), to present to a service outside AWS as
 * a bearer token. `token` is readable; `JSON.stringify`, `util.inspect` and template strings show `[redacted]`.
 */
export class WebIdentityToken {
  /** The signed JWT: send it as `Authorization: Bearer <token>`. A secret. */
  readonly token: string;
  /** When the token stops being valid. */
  readonly expiration: Date;

  constructor(token: string, expiration: Date) {
    this.token = token;
    this.expiration = expiration;
  }

  /** The token without its secret: what `JSON.stringify` prints. */
  toJSON(): Record<string, unknown> {
    return { token: '[redacted]', expiration: this.expiration };
  }

  toString(): string {
    return `WebIdentityToken(expiration=${this.expiration.toISOString()})`;
  }

  [inspect.custom](depth: number, options: Parameters<typeof inspect>[1]): string {
    return `WebIdentityToken ${inspect(this.toJSON(), { ...options, depth })}`;
  }
}
