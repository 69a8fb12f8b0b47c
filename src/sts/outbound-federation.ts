import { GetWebIdentityTokenCommand } from '@aws-sdk/client-sts';
import { StsError } from '../errors/sts-error.js';
import type { GetWebIdentityTokenRequest } from './sts-request.types.js';
import type { StsSender } from './sts-sender.js';
import { RequestValidator, validateWebIdentityTokenRequest } from './sts-validation.js';
import { WebIdentityToken } from './web-identity-token.js';

/** Outbound identity federation: GetWebIdentityToken. */
export class OutboundFederation {
  constructor(private readonly sts: StsSender) {}

  /** GetWebIdentityToken: a JWT STS signs for the base identity, for a service outside AWS. Never logged. */
  getWebIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    const operation = 'GetWebIdentityToken';
    return this.sts.bounded(operation, async (signal) => {
      const input = validateWebIdentityTokenRequest(new RequestValidator(operation), request);
      const output = await this.sts.send(operation, new GetWebIdentityTokenCommand(input), { secrets: [], signal });
      if (!output.WebIdentityToken || !output.Expiration) {
        throw new StsError(`${operation} returned no token`, { code: 'InvalidResponse', operation, retryable: true });
      }
      return new WebIdentityToken(output.WebIdentityToken, new Date(output.Expiration));
    });
  }
}
