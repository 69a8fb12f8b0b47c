import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { RequestValidator } from '../sts/sts-validation.js';

/** The host of STS's global endpoint (region `aws-global`), which some operations (AssumeRoot) are not served on. */
const GLOBAL_STS_HOSTNAME = 'sts.amazonaws.com';

/** The pseudo-region the SDK resolves to STS's global endpoint. */
export const GLOBAL_REGION = 'aws-global';

/**
 * The URL an STS client sends its requests to, as the SDK's own endpoint resolution makes it from the client's config
 * (region, `useFipsEndpoint`, `useDualstackEndpoint`, `endpoint`): a command runs through the client's middleware up
 * to the step where its endpoint is known and stops there, so nothing is signed or sent (the SDK may resolve the
 * client's credentials on the way). Undefined when the client's `send` is not the SDK's (a mock answers it).
 */
export async function resolvedStsEndpoint(client: STSClient): Promise<URL | undefined> {
  const command = new GetCallerIdentityCommand({});
  command.middlewareStack.add((_next, context) => async () => ({ output: { endpoint: context.endpointV2?.url }, response: {} }) as never, {
    step: 'build',
    name: 'nestjsAwsStsEndpointProbe',
  });
  const output = (await client.send(command)) as { endpoint?: unknown } | undefined;
  return output?.endpoint instanceof URL ? output.endpoint : undefined;
}

/** True when the client sends to STS's global endpoint (`https://sts.amazonaws.com`). */
export async function sendsToGlobalStsEndpoint(client: STSClient): Promise<boolean> {
  return (await resolvedStsEndpoint(client))?.hostname === GLOBAL_STS_HOSTNAME;
}

/** The endpoint choices of the config, as `validateEndpointChoice` reads them. */
export interface EndpointChoice {
  AWS_REGION?: string;
  useFipsEndpoint?: boolean;
  useDualstackEndpoint?: boolean;
  clientConfig?: { region?: unknown; endpoint?: unknown; useFipsEndpoint?: unknown; useDualstackEndpoint?: unknown };
}

/**
 * Checks the config's endpoint choices against what the SDK can resolve: FIPS and dual-stack are variants of a
 * regional endpoint, so neither goes with a global pseudo-region (the SDK would make up a host that does not exist,
 * `sts-fips.aws-global.amazonaws.com`) nor with a custom `endpoint` (the SDK refuses each call).
 */
export function validateEndpointChoice(validate: RequestValidator, config: EndpointChoice): void {
  const given = config.clientConfig ?? {};
  const region = config.AWS_REGION ?? given.region;
  const global = region === GLOBAL_REGION;
  for (const field of ['useFipsEndpoint', 'useDualstackEndpoint'] as const) {
    const value = config[field];
    validate.require(value === undefined || typeof value === 'boolean', field, 'must be true or false');
    if ((value ?? given[field]) !== true) continue;
    validate.require(!global, field, `is not available on the global endpoint (aws-global): set AWS_REGION to a region`);
    validate.require(given.endpoint === undefined, field, 'cannot go with a custom endpoint (clientConfig.endpoint): the SDK refuses it');
  }
}
