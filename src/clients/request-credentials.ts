import { AsyncLocalStorage } from 'node:async_hooks';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/** A provider the SDK calls on every request instead of memoizing what it returns. */
export type UnmemoizedProvider = AwsCredentialIdentityProvider & { memoized: true };

/** The credentials of one SDK request, for the clients of one `RequestCredentials`. */
interface RunningRequest {
  owner: RequestCredentials;
  identity?: Promise<AwsCredentialIdentity>;
}

/** One store for every client: each request runs with its own, named by its owner (a client never reads another's). */
const running = new AsyncLocalStorage<RunningRequest>();

/** The part of an AWS SDK v3 client this needs. */
interface MiddlewareStackHolder {
  middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
}

/**
 * Credentials resolved once per SDK request. The SDK asks a client's provider when it picks the auth scheme, and its
 * SigV4 signer asks again at every attempt; within one request of a client this was installed on, they all get the
 * first answer, until `forget()`. Outside such a request, `provider` resolves afresh each time.
 */
export class RequestCredentials {
  /** The provider to build the client with. */
  readonly provider: UnmemoizedProvider;

  constructor(resolve: () => Promise<AwsCredentialIdentity>) {
    this.provider = Object.assign(
      () => {
        const request = running.getStore();
        if (request?.owner !== this) return resolve();
        return (request.identity ??= resolve());
      },
      { memoized: true as const },
    );
  }

  /** Makes each request of the client resolve its credentials once (outermost, so it spans every attempt). */
  install(client: MiddlewareStackHolder): void {
    const middleware = (next: (args: unknown) => Promise<unknown>) => (args: unknown) => running.run({ owner: this }, () => next(args));
    client.middlewareStack.add(middleware, {
      step: 'initialize',
      priority: 'high',
      name: 'nestjsAwsStsRequestCredentials',
      override: true,
    });
  }

  /** The running request resolves its credentials again at its next attempt. */
  forget(): void {
    const request = running.getStore();
    if (request?.owner === this) request.identity = undefined;
  }
}
