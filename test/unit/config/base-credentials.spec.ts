import { STSClient } from '@aws-sdk/client-sts';
import { StsService } from '../../../src';
import { resolveStsConfig } from '../../../src/config/server-aws-sts.config';

describe('base credentials that cannot be resolved', () => {
  it('become an StsError with code CredentialsProviderError and a hint', async () => {
    const failing = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    };
    // No mock here: the real client resolves credentials before it would send (to a closed loopback port).
    const client = new STSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: failing, maxAttempts: 1 });
    const service = new StsService(resolveStsConfig({ credentials: failing }), client);
    await expect(service.getCallerIdentity()).rejects.toMatchObject({
      name: 'StsError',
      code: 'CredentialsProviderError',
      operation: 'GetCallerIdentity',
      hint: expect.stringContaining('AWS_PROFILE'),
    });
    service.onModuleDestroy();
  });
});
