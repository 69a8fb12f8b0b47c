import { Logger } from '@nestjs/common';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { StsEvent } from '../../src';
import { ROLE_ARN, createService, serviceError } from '../support/fixtures';
import { capturingLogger, visibleText } from '../support/visible-text';

// Marker secrets: each must never appear in anything a user can see other than the property that holds it.
const SECRET_KEY = 'MARKERsecretAccessKey0123456789';
const SESSION_TOKEN = 'MARKERsessionToken0123456789';
const WEB_TOKEN = 'MARKERwebIdentityToken.eyJzdWIiOiJ4In0.sig';
const SAML = 'MARKERsamlAssertionPHNhbWw+';
const MFA_CODE = '987654';
const EXTERNAL_ID = 'MARKERexternalId-tenant-42';
const MARKERS = [SECRET_KEY, SESSION_TOKEN, WEB_TOKEN, SAML, MFA_CODE, EXTERNAL_ID];

const sts = mockClient(STSClient);
const captureLogger = capturingLogger();
const logged = captureLogger.lines;

beforeAll(() => Logger.overrideLogger(captureLogger));
afterAll(() => Logger.overrideLogger(false));
beforeEach(() => {
  sts.reset();
  logged.length = 0;
});

function expectNoMarkers(values: unknown[]): void {
  const text = values.map((value) => visibleText(value)).join('\n');
  for (const marker of MARKERS) expect(text).not.toContain(marker);
}

const stsCredentials = {
  AccessKeyId: 'ASIAVISIBLE',
  SecretAccessKey: SECRET_KEY,
  SessionToken: SESSION_TOKEN,
  Expiration: new Date(Date.now() + 3600_000),
};

describe('secrets never show', () => {
  it('in TemporaryCredentials printed, inspected, stringified or interpolated, yet the SDK can read them', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: stsCredentials });
    const credentials = await createService().assumeRole({ roleArn: ROLE_ARN, externalId: EXTERNAL_ID });
    expectNoMarkers([credentials, { wrapped: credentials }, [credentials], `${credentials}`]);
    expect(JSON.parse(JSON.stringify(credentials))).toMatchObject({
      accessKeyId: 'ASIAVISIBLE',
      secretAccessKey: '[redacted]',
      sessionToken: '[redacted]',
    });
    expect(credentials.secretAccessKey).toBe(SECRET_KEY);
    expect(credentials.sessionToken).toBe(SESSION_TOKEN);
  });

  it('in errors, their causes and the logs when STS echoes the request back', async () => {
    // STS validation messages quote the offending input; each operation echoes its own secrets.
    const echo = (...values: string[]) => `Value '${values.join("' and '")}' failed to satisfy constraint`;
    const withBody = {
      $response: { body: `<Credentials><SecretAccessKey>${SECRET_KEY}</SecretAccessKey><SessionToken>${SESSION_TOKEN}</SessionToken>` },
      $responseBodyText: SESSION_TOKEN,
    };
    sts.on(AssumeRoleCommand).rejects(serviceError('ValidationError', echo(EXTERNAL_ID, MFA_CODE), 400, withBody));
    sts.on(AssumeRoleWithWebIdentityCommand).rejects(serviceError('InvalidIdentityTokenException', echo(WEB_TOKEN)));
    sts.on(AssumeRoleWithSAMLCommand).rejects(serviceError('AccessDenied', echo(SAML), 403));
    sts.on(GetSessionTokenCommand).rejects(serviceError('AccessDenied', echo(MFA_CODE), 403));
    const service = createService();
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));

    const errors = await Promise.all([
      service
        .assumeRole({ roleArn: ROLE_ARN, externalId: EXTERNAL_ID, mfa: { serialNumber: 'GAHT12345678', tokenCode: MFA_CODE } })
        .catch((e: unknown) => e),
      service.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: WEB_TOKEN }).catch((e: unknown) => e),
      service
        .assumeRoleWithSaml({ roleArn: ROLE_ARN, principalArn: 'arn:aws:iam::123456789012:saml-provider/Okta', samlAssertion: SAML })
        .catch((e: unknown) => e),
      service.getSessionToken({ mfa: { serialNumber: 'GAHT12345678', tokenCode: MFA_CODE } }).catch((e: unknown) => e),
    ]);
    expect(errors.every((error) => error instanceof Error)).toBe(true);
    expect(errors.map((error) => (error as Error).message)).toEqual(expect.arrayContaining([expect.stringContaining('[redacted]')]));
    expect(logged.length).toBeGreaterThanOrEqual(4);
    expect(events).toHaveLength(4);
    expectNoMarkers([...errors, ...errors.map((error) => (error as Error).cause), ...logged, ...events]);
  });

  it('in the service itself, whose config holds static base credentials', () => {
    const service = createService({ credentials: { accessKeyId: 'AKIABASE', secretAccessKey: SECRET_KEY } });
    expectNoMarkers([service]);
  });

  it('in validation errors for bad secret inputs', async () => {
    const service = createService();
    const errors = await Promise.all([
      service.assumeRole({ roleArn: ROLE_ARN, mfa: { serialNumber: 'GAHT12345678', tokenCode: `${MFA_CODE}0` } }).catch((e: unknown) => e),
      service.assumeRole({ roleArn: ROLE_ARN, externalId: `${EXTERNAL_ID} with spaces` }).catch((e: unknown) => e),
      service.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: WEB_TOKEN.repeat(1000) }).catch((e: unknown) => e),
      service.assumeRoleWithSaml({ roleArn: ROLE_ARN, principalArn: ROLE_ARN, samlAssertion: SAML }).catch((e: unknown) => e),
    ]);
    expect(errors.map((error) => (error as { code: string }).code)).toEqual([
      'InvalidInput',
      'InvalidInput',
      'InvalidInput',
      'InvalidInput',
    ]);
    expectNoMarkers([...errors, ...logged]);
    expect(sts.calls()).toHaveLength(0);
  });
});
