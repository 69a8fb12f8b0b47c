import { getSmithyContext } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { CREDENTIALS_REJECTED_CODES } from './sts-error.js';

/** The part of an AWS SDK v3 client this middleware needs. */
interface MiddlewareStackHolder {
  middlewareStack: { addRelativeTo(middleware: unknown, options: Record<string, unknown>): void };
}

interface SelectedAuthScheme {
  identity?: AwsCredentialIdentity;
}

/**
 * Makes a client sign every attempt with the credentials the cache holds now, and answers a service's
 * "expired or unknown credentials" error (`CREDENTIALS_REJECTED_CODES`) by dropping those credentials from the
 * cache (if still current) and marking the error retryable, so the SDK's own retry signs again with fresh ones.
 * It runs inside the SDK's retry loop, just before signing.
 */
export function signWithCachedCredentials(
  client: MiddlewareStackHolder,
  credentials: AwsCredentialIdentityProvider,
  dropIfCurrent: (credentials: AwsCredentialIdentity) => boolean,
): void {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) =>
    async (args: unknown): Promise<unknown> => {
      const scheme = getSmithyContext(context).selectedHttpAuthScheme as SelectedAuthScheme | undefined;
      const identity = await credentials();
      if (scheme !== undefined) scheme.identity = identity;
      try {
        return await next(args);
      } catch (error) {
        const code = (error as { name?: string; Code?: string } | undefined)?.Code ?? (error as { name?: string } | undefined)?.name;
        if (code !== undefined && CREDENTIALS_REJECTED_CODES.has(code)) {
          dropIfCurrent(identity);
          Object.assign(error as object, { $retryable: {} });
        }
        throw error;
      }
    };
  client.middlewareStack.addRelativeTo(middleware, {
    name: 'nestjsAwsStsSignWithCachedCredentials',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    override: true,
  });
}
