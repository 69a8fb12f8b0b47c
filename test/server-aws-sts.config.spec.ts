import { ServerAwsStsConfig, resolveStsConfig } from '../src';

describe('ServerAwsStsConfig', () => {
  it('fromEnv reads the documented variables and leaves empty ones unset', () => {
    const config = ServerAwsStsConfig.fromEnv({
      AWS_REGION: 'eu-central-1',
      AWS_PROFILE: 'tenant-admin',
      STS_SESSION_DURATION: '1800',
      STS_MAX_SESSION_DURATION: '7200',
      STS_EXTERNAL_ID: '',
    });
    expect(config).toBeInstanceOf(ServerAwsStsConfig);
    expect(config).toMatchObject({ AWS_REGION: 'eu-central-1', AWS_PROFILE: 'tenant-admin', DEFAULT_SESSION_DURATION: 1800, MAX_SESSION_DURATION: 7200, EXTERNAL_ID: undefined });
  });

  it('a non-numeric duration from the environment fails resolution, naming the variable it maps to', () => {
    expect(() => resolveStsConfig(ServerAwsStsConfig.fromEnv({ STS_SESSION_DURATION: 'one hour' }))).toThrow(/DEFAULT_SESSION_DURATION must be an integer/);
  });

  it('applies the documented defaults', () => {
    const resolved = resolveStsConfig({});
    expect(resolved).toMatchObject({
      defaultSessionDuration: 3600,
      maxSessionDuration: 43200,
      requireExternalId: false,
      sessionNamePrefix: 'nestjs-aws-sts',
      clientConfig: { requestHandler: { connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true } },
      cache: { maxEntries: 500, mandatoryWindowSeconds: 60, refreshWindowSeconds: undefined },
    });
    expect(typeof resolved.credentials).toBe('function');
  });

  it('uses a profile provider when AWS_PROFILE is set, and keeps given credentials as they are', () => {
    expect(typeof resolveStsConfig({ AWS_PROFILE: 'dev' }).credentials).toBe('function');
    const provider = async () => ({ accessKeyId: 'A', secretAccessKey: 'B' });
    expect(resolveStsConfig({ credentials: provider }).credentials).toBe(provider);
  });

  it('wraps static credentials in a provider that resolves to them', async () => {
    const keys = { accessKeyId: 'AKIASTATIC', secretAccessKey: 'static-secret' };
    const resolved = resolveStsConfig({ credentials: keys });
    expect(typeof resolved.credentials).toBe('function');
    await expect(resolved.credentials()).resolves.toBe(keys);
  });

  it('keeps a user clientConfig over the default request handler', () => {
    const resolved = resolveStsConfig({ clientConfig: { maxAttempts: 5, requestHandler: { requestTimeout: 500 } } });
    expect(resolved.clientConfig).toEqual({ maxAttempts: 5, requestHandler: { requestTimeout: 500 } });
  });

  it.each([
    [{ sessionNamePrefix: 'has space' }, 'sessionNamePrefix'],
    [{ cache: { maxEntries: 0 } }, 'cache.maxEntries'],
    [{ cache: { mandatoryWindowSeconds: 601 } }, 'cache.mandatoryWindowSeconds'],
    [{ cache: { refreshWindowSeconds: -1 } }, 'cache.refreshWindowSeconds'],
    [{ credentials: { accessKeyId: 'only-the-id' } }, 'credentials'],
    [{ DEFAULT_SESSION_DURATION: 7200, MAX_SESSION_DURATION: 3600 }, 'DEFAULT_SESSION_DURATION'],
  ])('rejects %j, naming %s', (config, field) => {
    expect(() => resolveStsConfig(config as ServerAwsStsConfig)).toThrow(new RegExp(`Invalid ServerAwsStsConfig: .*${field.replace('.', '\\.')} must`));
  });

  it('accepts cache: false', () => {
    expect(resolveStsConfig({ cache: false }).cache).toBe(false);
  });
});
