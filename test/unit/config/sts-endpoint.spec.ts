/**
 * Which STS endpoint the module's client sends to, for each endpoint choice of the config: the URL the SDK's own
 * endpoint resolution makes from the client's config (no request is signed or sent).
 */
import { resolveStsConfig, type ServerAwsStsConfig } from '../../../src/config/server-aws-sts.config';
import { createStsClient, stsClientSignedBy } from '../../../src/config/sts-client.factory';
import { resolvedStsEndpoint } from '../../../src/config/sts-endpoint';
import { StsError, toStsError } from '../../../src/errors/sts-error';

const credentials = { accessKeyId: 'AKIAENDPOINTSPEC0001', secretAccessKey: 'endpoint-spec-secret' };

async function endpointOf(config: ServerAwsStsConfig): Promise<string | undefined> {
  const client = createStsClient(resolveStsConfig({ credentials, ...config }));
  try {
    return (await resolvedStsEndpoint(client))?.href;
  } finally {
    client.destroy();
  }
}

describe('STS endpoint choices', () => {
  it.each<[string, ServerAwsStsConfig, string]>([
    ['regional by default, us-east-1 included', { AWS_REGION: 'us-east-1' }, 'https://sts.us-east-1.amazonaws.com/'],
    ['regional', { AWS_REGION: 'eu-west-1' }, 'https://sts.eu-west-1.amazonaws.com/'],
    ['FIPS', { AWS_REGION: 'eu-west-1', useFipsEndpoint: true }, 'https://sts-fips.eu-west-1.amazonaws.com/'],
    ['dual-stack (IPv4 and IPv6)', { AWS_REGION: 'eu-west-1', useDualstackEndpoint: true }, 'https://sts.eu-west-1.api.aws/'],
    [
      'FIPS and dual-stack',
      { AWS_REGION: 'us-east-1', useFipsEndpoint: true, useDualstackEndpoint: true },
      'https://sts-fips.us-east-1.api.aws/',
    ],
    ['the global endpoint, asked for by name', { AWS_REGION: 'aws-global' }, 'https://sts.amazonaws.com/'],
    [
      'dual-stack in the China partition',
      { AWS_REGION: 'cn-north-1', useDualstackEndpoint: true },
      'https://sts.cn-north-1.api.amazonwebservices.com.cn/',
    ],
    [
      'FIPS in GovCloud (its regional endpoint is the FIPS one)',
      { AWS_REGION: 'us-gov-west-1', useFipsEndpoint: true },
      'https://sts.us-gov-west-1.amazonaws.com/',
    ],
    [
      'a region in clientConfig',
      { clientConfig: { region: 'ap-southeast-2' }, useDualstackEndpoint: true },
      'https://sts.ap-southeast-2.api.aws/',
    ],
    [
      'a custom endpoint (a VPC endpoint, the local STS)',
      { AWS_REGION: 'eu-west-1', clientConfig: { endpoint: 'https://vpce-1.sts.eu-west-1.vpce.amazonaws.com' } },
      'https://vpce-1.sts.eu-west-1.vpce.amazonaws.com/',
    ],
  ])('%s', async (_name, config, url) => {
    await expect(endpointOf(config)).resolves.toBe(url);
  });

  it('the option wins over the SDK environment variable, which applies when the option is not given', async () => {
    const before = process.env.AWS_USE_FIPS_ENDPOINT;
    process.env.AWS_USE_FIPS_ENDPOINT = 'true';
    try {
      await expect(endpointOf({ AWS_REGION: 'eu-west-1' })).resolves.toBe('https://sts-fips.eu-west-1.amazonaws.com/');
      await expect(endpointOf({ AWS_REGION: 'eu-west-1', useFipsEndpoint: false })).resolves.toBe('https://sts.eu-west-1.amazonaws.com/');
    } finally {
      if (before === undefined) delete process.env.AWS_USE_FIPS_ENDPOINT;
      else process.env.AWS_USE_FIPS_ENDPOINT = before;
    }
  });

  it('a client signed by other credentials (role chaining, access checks) sends to the same endpoint', async () => {
    const config = resolveStsConfig({ credentials, AWS_REGION: 'eu-central-1', useFipsEndpoint: true, useDualstackEndpoint: true });
    const moduleClient = createStsClient(config);
    try {
      const hop = stsClientSignedBy(moduleClient, config, {
        accessKeyId: 'ASIAHOPCREDENTIALS01',
        secretAccessKey: 'hop',
        sessionToken: 't',
      });
      expect((await resolvedStsEndpoint(hop))?.href).toBe('https://sts-fips.eu-central-1.api.aws/');
    } finally {
      moduleClient.destroy();
    }
  });

  it.each<[string, ServerAwsStsConfig, RegExp]>([
    ['FIPS with aws-global', { AWS_REGION: 'aws-global', useFipsEndpoint: true }, /useFipsEndpoint.*global endpoint/],
    [
      'dual-stack with aws-global',
      { clientConfig: { region: 'aws-global' }, useDualstackEndpoint: true },
      /useDualstackEndpoint.*global endpoint/,
    ],
    [
      'FIPS with a custom endpoint',
      { clientConfig: { endpoint: 'http://127.0.0.1:4566' }, useFipsEndpoint: true },
      /useFipsEndpoint.*custom endpoint/,
    ],
    [
      'dual-stack with a custom endpoint',
      { clientConfig: { endpoint: 'http://127.0.0.1:4566', useDualstackEndpoint: true } },
      /useDualstackEndpoint.*custom endpoint/,
    ],
    ['a flag that is not a boolean', { useFipsEndpoint: 'yes' as never }, /useFipsEndpoint must be true or false/],
    ['a region that is neither a region nor aws-global', { AWS_REGION: 'global' }, /AWS_REGION must be a region name/],
  ])('refuses %s at bootstrap, naming the field', (_name, config, message) => {
    const attempt = () => resolveStsConfig({ credentials, ...config });
    expect(attempt).toThrow(StsError);
    expect(attempt).toThrow(message);
  });

  it("turns the SDK's endpoint resolution error at call time into InvalidConfiguration with the SDK's words", () => {
    const sdkError = Object.assign(
      new Error('Invalid Configuration: FIPS and DualStack are enabled, but this partition does not support one or both'),
      {
        name: 'EndpointError',
      },
    );
    expect(toStsError(sdkError, 'AssumeRole')).toMatchObject({
      code: 'InvalidConfiguration',
      retryable: false,
      message: expect.stringContaining('this partition does not support one or both'),
    });
  });
});
