import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { visibleText } from './support/visible-text';
import { ServerAwsStsConfig } from '../src';
import { resolveStsConfig } from '../src/server-aws-sts.config';

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
      cache: { maxEntries: 10_000, mandatoryWindowSeconds: 60, refreshWindowSeconds: undefined },
      operationTimeoutMs: 30_000,
    });
    expect(typeof resolved.credentials).toBe('function');
  });

  it('uses a profile provider when AWS_PROFILE is set, and asks a given provider at each resolution', async () => {
    expect(typeof resolveStsConfig({ AWS_PROFILE: 'dev' }).credentials).toBe('function');
    const identity = { accessKeyId: 'A', secretAccessKey: 'B' };
    const provider = jest.fn(async () => identity);
    const resolved = resolveStsConfig({ credentials: provider });
    await expect(resolved.credentials()).resolves.toBe(identity);
    await expect(resolved.credentials()).resolves.toBe(identity);
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('wraps static credentials in a provider that resolves to them', async () => {
    const keys = { accessKeyId: 'AKIASTATIC', secretAccessKey: 'static-secret' };
    const resolved = resolveStsConfig({ credentials: keys });
    expect(typeof resolved.credentials).toBe('function');
    await expect(resolved.credentials()).resolves.toBe(keys);
  });

  it('merges user request handler options over the defaults: other timeouts stay, and a request timeout throws', () => {
    const resolved = resolveStsConfig({ clientConfig: { maxAttempts: 5, requestHandler: { requestTimeout: 500 } } });
    expect(resolved.clientConfig).toEqual({ maxAttempts: 5, requestHandler: { connectionTimeout: 3000, requestTimeout: 500, throwOnRequestTimeout: true } });
    expect(resolved.ownsRequestHandler).toBe(true);
  });

  it('keeps a handler instance or an agent the user passes as theirs (never destroyed by the library)', () => {
    const httpsAgent = new HttpsAgent();
    const withAgent = resolveStsConfig({ clientConfig: { requestHandler: { httpsAgent } } });
    expect(withAgent.clientConfig.requestHandler).toEqual({ connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true, httpsAgent });
    expect(withAgent.ownsRequestHandler).toBe(false);
    // A proxy agent (agent-base) extends http.Agent and is passed as httpsAgent: still the user's.
    const proxyAgent = new HttpAgent();
    expect(resolveStsConfig({ clientConfig: { requestHandler: { httpsAgent: proxyAgent as never } } }).ownsRequestHandler).toBe(false);
    proxyAgent.destroy();
    expect(resolveStsConfig({ clientConfig: { requestHandler: { httpsAgent: { keepAlive: true } as never } } }).ownsRequestHandler).toBe(true);
    const handler = new NodeHttpHandler({ requestTimeout: 400 });
    const withHandler = resolveStsConfig({ clientConfig: { requestHandler: handler } });
    expect(withHandler.clientConfig.requestHandler).toBe(handler);
    expect(withHandler.ownsRequestHandler).toBe(false);
    httpsAgent.destroy();
  });

  it('refuses an operation timeout outside 1–300 s and a maxEntries over 1,000,000', () => {
    expect(() => resolveStsConfig({ operationTimeoutSeconds: 0 })).toThrow(/operationTimeoutSeconds must be an integer between 1 and 300/);
    expect(() => resolveStsConfig({ cache: { maxEntries: 10_000_000 } })).toThrow(/cache.maxEntries must be an integer between 1 and 1000000/);
  });

  it('never shows EXTERNAL_ID to inspect or JSON', () => {
    const resolved = resolveStsConfig({ EXTERNAL_ID: 'partner-external-id-7' });
    expect(resolved.defaultExternalId()).toBe('partner-external-id-7');
    expect(visibleText(resolved)).not.toContain('partner-external-id-7');
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
