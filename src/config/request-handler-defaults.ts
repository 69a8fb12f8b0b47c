import type { STSClientConfig } from '@aws-sdk/client-sts';

/** Milliseconds. Without `throwOnRequestTimeout` the SDK only logs a warning when a request times out, and waits on. */
const STS_REQUEST_HANDLER_DEFAULTS = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true };
/**
 * The tenant clients' (`createClient`, `clientFor`): as the STS client's, but a minute of silence, since AWS answers
 * some operations late by design (SQS long polls wait up to 20 s, Step Functions `GetActivityTask` 60 s).
 */
export const TENANT_REQUEST_HANDLER_DEFAULTS = { ...STS_REQUEST_HANDLER_DEFAULTS, requestTimeout: 60_000 };

type RequestHandlerInput = STSClientConfig['requestHandler'];

const isHandlerInstance = (handler: RequestHandlerInput) =>
  typeof handler === 'function' || typeof (handler as { handle?: unknown } | undefined)?.handle === 'function';

/**
 * A client config (the STS client's, or a tenant client's from `createClient` and `clientFor`) with the request
 * handler defaults merged under the user's options (so `{ requestTimeout: 400 }` or `{ httpsAgent }` keeps the other
 * timeouts, and a request timeout throws), and whether the library owns the handler: a handler instance, left as
 * it is, or an agent the user passed, is theirs to close.
 */
export function withRequestHandlerDefaults<Config extends object>(
  given: Config = {} as Config,
  defaults: typeof STS_REQUEST_HANDLER_DEFAULTS = STS_REQUEST_HANDLER_DEFAULTS,
): { clientConfig: Config; ownsRequestHandler: boolean } {
  const handler = (given as { requestHandler?: RequestHandlerInput }).requestHandler;
  if (isHandlerInstance(handler)) return { clientConfig: { ...given }, ownsRequestHandler: false };
  const options = { ...defaults, ...(handler as object | undefined) } as { httpAgent?: unknown; httpsAgent?: unknown };
  // An agent instance (any object that can be destroyed: http.Agent, a proxy agent…) is the user's; plain agent
  // options make the SDK build agents of its own.
  const userAgent = [options.httpAgent, options.httpsAgent].some(
    (agent) => typeof (agent as { destroy?: unknown } | undefined)?.destroy === 'function',
  );
  return { clientConfig: { ...given, requestHandler: options as RequestHandlerInput }, ownsRequestHandler: !userAgent };
}
