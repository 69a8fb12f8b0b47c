import { getSmithyContext } from '@smithy/core';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { RequestCredentials } from './request-credentials.js';
import { CREDENTIALS_REJECTED_CODES } from './sts-error.js';

/** The part of an AWS SDK v3 client this middleware needs. */
interface MiddlewareStackHolder {
  middlewareStack: { addRelativeTo(middleware: unknown, options: Record<string, unknown>): void };
}

interface SelectedAuthScheme {
  identity?: AwsCredentialIdentity;
  httpAuthOption?: { signingProperties?: { signingRegion?: unknown; region?: unknown } };
}

/**
 * What the client's owner does with the service's verdicts on credentials, per place: `where` names the client's
 * service and the attempt's signing region.
 */
export interface CredentialVerdicts {
  /** The service rejected `used` as expired or unknown: returns true when it dropped them, so a retry gets fresh ones. */
  rejected(where: string, used: AwsCredentialIdentity): boolean;
  /** The service accepted the credentials an attempt was signed with. */
  accepted(where: string): void;
}

/**
 * Makes a client sign each request with the credentials the cache holds when it starts, and answers a service's
 * "expired or unknown credentials" error (`CREDENTIALS_REJECTED_CODES`) as `verdicts.rejected` decides: credentials
 * dropped, and the error marked retryable so the SDK's own retry signs again with fresh ones; or the error let
 * through as the service answered. It runs inside the SDK's retry loop, just before signing.
 */
export function signWithCachedCredentials(client: MiddlewareStackHolder, credentials: RequestCredentials, verdicts: CredentialVerdicts): void {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) =>
    async (args: unknown): Promise<unknown> => {
      const scheme = getSmithyContext(context).selectedHttpAuthScheme as SelectedAuthScheme | undefined;
      const identity = await credentials.provider();
      if (scheme !== undefined) scheme.identity = identity;
      const signing = scheme?.httpAuthOption?.signingProperties;
      const where = `${String(context.clientName)}\n${String(signing?.signingRegion ?? signing?.region)}`;
      let output: unknown;
      try {
        output = await next(args);
      } catch (error) {
        const code = (error as { Code?: string } | undefined)?.Code ?? (error as { name?: string } | undefined)?.name;
        if (code !== undefined && CREDENTIALS_REJECTED_CODES.has(code) && verdicts.rejected(where, identity)) {
          credentials.forget();
          Object.assign(error as object, { $retryable: {} });
        }
        throw error;
      }
      verdicts.accepted(where);
      return output;
    };
  client.middlewareStack.addRelativeTo(middleware, {
    name: 'nestjsAwsStsSignWithCachedCredentials',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    override: true,
  });
}
