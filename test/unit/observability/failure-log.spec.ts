import { Logger, type LoggerService } from '@nestjs/common';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { StsError, StsService } from '../../../src';
import { createStsClient } from '../../../src/config/sts-client.factory';
import { FailureLog, StsFailureLogLine } from '../../../src/observability/failure-log';
import { resolveStsConfig } from '../../../src/config/server-aws-sts.config';
import { BASE_CREDENTIALS, createService, serviceError, tenantRole } from '../../support/fixtures';
import { visibleText } from '../../support/visible-text';

const sts = mockClient(STSClient);

/** A logger that keeps what it is given, raw, and how Nest's default logger would print it. */
function recordingLogger() {
  const entries: Array<{ level: string; message: unknown; printed: string }> = [];
  const keep = (level: string) => (message: unknown) => entries.push({ level, message, printed: format(message) });
  const logger: LoggerService = {
    log: keep('log'),
    error: keep('error'),
    warn: keep('warn'),
    debug: keep('debug'),
    verbose: keep('verbose'),
    fatal: keep('fatal'),
  };
  return { logger, entries, warnings: () => entries.filter((entry) => entry.level === 'warn') };
}

const throttled = (requestId = 'req-1') =>
  new StsError('Rate exceeded', { code: 'Throttling', operation: 'AssumeRole', retryable: true, requestId });
const ROLE = tenantRole(1);

let recording: ReturnType<typeof recordingLogger>;
beforeEach(() => {
  sts.reset();
  recording = recordingLogger();
  Logger.overrideLogger(recording.logger);
});
afterAll(() => Logger.overrideLogger(false));

describe('failure log lines', () => {
  it('carry the facts as fields for JSON loggers, and print as one readable line with the default logger', () => {
    new FailureLog().report(throttled('req-42'), ROLE);
    const [{ message, printed }] = recording.warnings();
    expect(message).toBeInstanceOf(StsFailureLogLine);
    expect(JSON.parse(JSON.stringify(message))).toEqual({
      msg: `Rate exceeded [role ${ROLE}] [request req-42]`,
      code: 'Throttling',
      operation: 'AssumeRole',
      retryable: true,
      roleArn: ROLE,
      requestId: 'req-42',
    });
    expect(printed).toBe(`Rate exceeded [role ${ROLE}] [request req-42]`);
    expect((message as { message: string }).message).toBe(printed); // for loggers that read `message` (nest-winston)
    expect(Object.keys(message as object).sort()).toEqual(['code', 'msg', 'operation', 'requestId', 'retryable', 'roleArn']);
  });

  it('never carries what a failing base provider said: its message may hold a secret', async () => {
    const failing = async () => {
      throw new Error('vault login failed for token hvs.PLANTED-SECRET-TOKEN');
    };
    const { credentials } = resolveStsConfig({ credentials: failing });
    const error = await credentials().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ name: 'CredentialsProviderError', message: expect.stringContaining('(Error;') });
    expect(visibleText(error)).not.toContain('PLANTED');
    const config = resolveStsConfig({ credentials: failing });
    // The client is mocked, so `send` never signs: resolve the base identity as signing would.
    sts.on(GetCallerIdentityCommand).callsFake(async () => config.credentials());
    const service = new StsService(config, createStsClient(config));
    const refused = await service.getCallerIdentity().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(refused).toMatchObject({ code: 'CredentialsProviderError', hint: expect.any(String) });
    expect(visibleText(refused)).not.toContain('PLANTED');
    expect(recording.entries.map((entry) => `${entry.printed} ${JSON.stringify(entry.message)}`).join('\n')).not.toContain('PLANTED');
    expect(recording.warnings()).toHaveLength(1);
    service.onModuleDestroy();
  });

  it('counts repeats of one failure within 10 s into its next line instead of printing them', () => {
    let now = 0;
    const log = new FailureLog(() => now);
    for (let i = 0; i < 43; i++) log.report(throttled(), ROLE);
    now = 9_999;
    log.report(throttled(), ROLE);
    expect(recording.warnings()).toHaveLength(1);
    now = 10_000;
    log.report(throttled(), ROLE);
    const lines = recording.warnings();
    expect(lines).toHaveLength(2);
    expect(lines[1].printed).toMatch(/\(43 more within 10 s of the previous line\)$/);
    expect(lines[1].message).toMatchObject({ repeats: 43 });
  });

  it('tells different roles and codes apart, but prints at most 20 lines per 10 s in all, counting the rest into the next line', () => {
    let now = 0;
    const log = new FailureLog(() => now);
    log.report(throttled(), ROLE);
    log.report(new StsError('denied', { code: 'AccessDenied', operation: 'AssumeRole', retryable: false }), ROLE);
    for (let tenant = 2; tenant <= 100; tenant++) log.report(throttled(), tenantRole(tenant));
    expect(recording.warnings()).toHaveLength(20);
    now = 10_000;
    log.report(throttled(), tenantRole(500));
    const last = recording.warnings().at(-1)!;
    expect(last.printed).toMatch(/\(81 other failures not logged\)$/);
  });
});

describe('a throttling storm through the service', () => {
  it('1,000 callers of one role write one line; 1,000 callers of 1,000 roles write at most 20', async () => {
    sts.on(AssumeRoleCommand).rejects(serviceError('Throttling', 'Rate exceeded', 400));
    const service = createService();
    await Promise.allSettled(Array.from({ length: 1_000 }, () => service.getCredentials({ roleArn: ROLE })));
    expect(recording.warnings()).toHaveLength(1);

    await Promise.allSettled(Array.from({ length: 1_000 }, (_, tenant) => service.getCredentials({ roleArn: tenantRole(tenant + 2) })));
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1_001);
    expect(recording.warnings().length).toBeLessThanOrEqual(20 + 1);
  });
});

describe('where the base identity came from', () => {
  const debugLines = () => recording.entries.filter((entry) => entry.level === 'debug').map((entry) => entry.printed);

  it('is said once, in a debug line, the first time it resolves, without a key', async () => {
    const { credentials } = resolveStsConfig({ credentials: BASE_CREDENTIALS });
    expect(debugLines()).toEqual([]);
    await credentials();
    await credentials();
    expect(debugLines()).toEqual(['Base identity: from the static keys in the config']);
  });

  it("names the default chain's source: environment variables", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAENVEXAMPLE000001', AWS_SECRET_ACCESS_KEY: 'env-secret-planted' });
    delete process.env.AWS_PROFILE;
    try {
      await resolveStsConfig({}).credentials();
      expect(debugLines()).toEqual(['Base identity: from environment variables (AWS_ACCESS_KEY_ID)']);
      expect(recording.entries.map((entry) => entry.printed).join('\n')).not.toMatch(/env-secret-planted|AKIAENV/);
    } finally {
      process.env = saved;
    }
  });

  it('names the source an SDK provider passed in the config found (fromNodeProviderChain from the app)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAENVEXAMPLE000002', AWS_SECRET_ACCESS_KEY: 'env-secret-planted' });
    delete process.env.AWS_PROFILE;
    try {
      await resolveStsConfig({ credentials: fromNodeProviderChain() }).credentials();
      expect(debugLines()).toEqual(['Base identity: from environment variables (AWS_ACCESS_KEY_ID)']);
    } finally {
      process.env = saved;
    }
  });

  it('names the profile', async () => {
    const saved = { ...process.env };
    const file = join(mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-profile-')), 'credentials');
    writeFileSync(file, '[tenant-admin]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = profile-secret-planted\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    process.env.AWS_CONFIG_FILE = join(file, '..', 'none');
    try {
      await resolveStsConfig({ AWS_PROFILE: 'tenant-admin' }).credentials();
      expect(debugLines()).toEqual(['Base identity: from the shared config profile "tenant-admin"']);
      expect(recording.entries.map((entry) => entry.printed).join('\n')).not.toMatch(/profile-secret-planted|AKIAPROFILE/);
    } finally {
      process.env = saved;
    }
  });
});
