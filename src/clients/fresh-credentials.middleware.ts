import { Readable } from 'node:stream';
import { getSmithyContext } from '@smithy/core';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { RequestCredentials } from './request-credentials.js';
import { CREDENTIALS_REJECTED_CODES } from '../errors/error-codes.js';

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
  /** The service rejected `used` as expired or unknown: returns true when it dropped them, to sign again with fresh ones. */
  rejected(where: string, used: AwsCredentialIdentity): boolean;
  /** The service accepted the credentials an attempt was signed with. */
  accepted(where: string): void;
}

/** The service's code of an error, `Code` (query and XML protocols) or `name`. */
const codeOf = (error: unknown) => (error as { Code?: string } | undefined)?.Code ?? (error as { name?: string } | undefined)?.name;

/** A request whose body is a stream: it cannot be sent twice (the SDK does not retry it either). */
const hasStreamedBody = (args: unknown) => {
  const body = (args as { request?: { body?: unknown } } | undefined)?.request?.body;
  return body instanceof Readable || body instanceof ReadableStream;
};

/**
 * Makes a client sign each request with the credentials the cache holds when it starts, and answers a service's
 * "expired or unknown credentials" error (`CREDENTIALS_REJECTED_CODES`) as `verdicts.rejected` decides: credentials
 * dropped and the request signed again at once with fresh ones, within the same attempt — not by the SDK's retry,
 * whose quota a burst of rejected requests would spend for every caller of the client (a request with a streamed
 * body, which cannot be sent twice, is only marked retryable); or the error let through as the service answered.
 * It runs inside the SDK's retry loop, just before signing.
 */
export function signWithCachedCredentials(
  client: MiddlewareStackHolder,
  credentials: RequestCredentials,
  verdicts: CredentialVerdicts,
): void {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) =>
    (args: unknown): Promise<unknown> => {
      const scheme = getSmithyContext(context).selectedHttpAuthScheme as SelectedAuthScheme | undefined;
      const signing = scheme?.httpAuthOption?.signingProperties;
      const where = `${String(context.clientName)}\n${String(signing?.signingRegion ?? signing?.region)}`;
      const send = async (replaced: boolean): Promise<unknown> => {
        const identity = await credentials.provider();
        if (scheme !== undefined) scheme.identity = identity;
        let output: unknown;
        try {
          output = await next(args);
        } catch (error) {
          const code = codeOf(error);
          if (code === undefined || !CREDENTIALS_REJECTED_CODES.has(code) || !verdicts.rejected(where, identity)) throw error;
          credentials.forget();
          if (!replaced && !hasStreamedBody(args)) return send(true);
          Object.assign(error as object, { $retryable: {} });
          throw error;
        }
        verdicts.accepted(where);
        return output;
      };
      return send(false);
    };
  client.middlewareStack.addRelativeTo(middleware, {
    name: 'nestjsAwsStsSignWithCachedCredentials',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    override: true,
  });
}
