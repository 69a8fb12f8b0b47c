import { Inject } from '@nestjs/common';
import { STS_CLIENT } from './sts.constants.js';

/**
 * Injects the module's `STSClient` (token `STS_CLIENT`), signed by the base identity:
 * `constructor(@InjectStsClient() private readonly sts: STSClient) {}`.
 */
export const InjectStsClient = (): PropertyDecorator & ParameterDecorator => Inject(STS_CLIENT);
