/**
 * The STS operations beyond the role ones, over the wire: the real `@aws-sdk/client-sts` through `StsService`
 * against the local STS on 127.0.0.1, each with its validation, errors, hints, redaction and `sts-call` event.
 */
import { verify } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ServerAwsStsModule, StsError, StsService, StsValidationError, type StsEvent } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';
import { rejection } from '../support/async-helpers';
import { capturingLogger, visibleText } from '../support/visible-text';

const DENIAL = {
  allowed: false,
  explicitDeny: true,
  matchedStatements: {
    items: [
      {
        statementId: 'NoBigInstances',
        effect: 'DENY',
        actions: { items: [{ value: 'ec2:RunInstances' }] },
        resources: { items: [{ value: '*' }] },
      },
    ],
  },
  failures: { items: [] },
  context: {
    principal: { id: 'AIDALOCALSTS00000001', name: 'local-test', arn: 'arn:aws:iam::111111111111:user/local-test' },
    action: 'ec2:RunInstances',
    resource: 'arn:aws:ec2:us-east-1:111111111111:instance/*',
    conditions: { items: [{ key: 'ec2:InstanceType', values: { items: [{ value: 'p5.48xlarge' }] } }] },
  },
};

describe('STS operations over the wire', () => {
  let server: LocalStsServer;
  const apps: TestingModule[] = [];

  async function app(): Promise<{ service: StsService; events: StsEvent[]; logs: string[] }> {
    const logger = capturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure(server.moduleConfig({ clientConfig: { maxAttempts: 1 } }))],
    })
      .setLogger(logger)
      .compile();
    apps.push(moduleRef);
    const service = moduleRef.get(StsService);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    return { service, events, logs: logger.lines };
  }

  beforeAll(async () => {
    server = await startLocalSts();
  });

  beforeEach(() => {
    server.clearFaults();
    server.resetCalls();
  });

  afterEach(async () => {
    for (const moduleRef of apps.splice(0)) await moduleRef.close();
  });

  afterAll(async () => {
    Logger.overrideLogger(false);
    await server.close();
  });

  describe('explainAuthorizationFailure (DecodeAuthorizationMessage)', () => {
    it('decodes a message into the typed explanation, and keeps the message out of the event', async () => {
      const { service, events } = await app();
      const encoded = server.encodeAuthorizationMessage(DENIAL);

      const explanation = await service.explainAuthorizationFailure(encoded);

      expect(explanation).toEqual({
        allowed: false,
        explicitDeny: true,
        matchedStatements: [{ statementId: 'NoBigInstances', effect: 'DENY', actions: ['ec2:RunInstances'], resources: ['*'] }],
        principal: DENIAL.context.principal,
        action: 'ec2:RunInstances',
        resource: 'arn:aws:ec2:us-east-1:111111111111:instance/*',
        conditions: [{ key: 'ec2:InstanceType', values: ['p5.48xlarge'] }],
        decoded: DENIAL,
      });
      expect(events).toEqual([expect.objectContaining({ type: 'sts-call', operation: 'DecodeAuthorizationMessage', outcome: 'success' })]);
      expect(visibleText(events)).not.toContain(encoded);
    });

    it('decodes the message an AWS AccessDenied carries: the StsError says how, and never shows the message', async () => {
      const { service, logs } = await app();
      const encoded = server.encodeAuthorizationMessage(DENIAL);
      server.injectFault(
        {
          kind: 'error',
          code: 'AccessDenied',
          message: `You are not authorized to perform this operation. Encoded authorization failure message: ${encoded}`,
        },
        { action: 'GetCallerIdentity' },
      );

      const error = await rejection(service.getCallerIdentity());

      expect(error).toMatchObject({ code: 'AccessDenied', operation: 'GetCallerIdentity' });
      expect(error.hint).toContain('sts.explainAuthorizationFailure(error)');
      expect(visibleText(error)).not.toContain(encoded);
      expect(logs.join('\n')).not.toContain(encoded);
      await expect(service.explainAuthorizationFailure(error)).resolves.toMatchObject({ explicitDeny: true, action: 'ec2:RunInstances' });
      // Any other service's error carries it in its message.
      await expect(
        service.explainAuthorizationFailure(new Error(`Encoded authorization failure message: ${encoded}`)),
      ).resolves.toMatchObject({ explicitDeny: true });
    });

    it('answers a message STS cannot decode with InvalidAuthorizationMessage and its hint, the message scrubbed', async () => {
      const { service, events, logs } = await app();
      const forged = 'forged-encoded-authorization-message-0123456789';

      const error = await rejection(service.explainAuthorizationFailure(forged));

      expect(error).toMatchObject({
        code: 'InvalidAuthorizationMessage',
        operation: 'DecodeAuthorizationMessage',
        retryable: false,
        httpStatusCode: 400,
      });
      expect(error.hint).toMatch(/encoded authorization failure message whole/);
      expect(events).toEqual([
        expect.objectContaining({ operation: 'DecodeAuthorizationMessage', outcome: 'error', errorCode: 'InvalidAuthorizationMessage' }),
      ]);
      expect(visibleText([error, events, logs])).not.toContain(forged);
    });

    it('refuses an empty or oversized message, or an error without one, before sending anything', async () => {
      const { service } = await app();
      for (const input of ['', 'x'.repeat(10_241), new Error('AccessDenied, nothing encoded')]) {
        const error = await rejection<StsValidationError>(service.explainAuthorizationFailure(input));
        expect(error).toBeInstanceOf(StsValidationError);
        expect(error.field).toBe('encodedMessage');
      }
      expect(server.callCount()).toBe(0);
    });
  });

  describe('getAccessKeyInfo (GetAccessKeyInfo)', () => {
    it("names the account of a base key and of an issued session's key", async () => {
      const { service, events } = await app();
      const session = await service.getSessionToken({ durationSeconds: 900 });

      await expect(service.getAccessKeyInfo(server.baseIdentity.accessKeyId)).resolves.toEqual({ account: server.baseIdentity.account });
      await expect(service.getAccessKeyInfo(session.accessKeyId)).resolves.toEqual({ account: server.baseIdentity.account });
      expect(events.filter((event) => event.type === 'sts-call' && event.operation === 'GetAccessKeyInfo')).toHaveLength(2);
      expect(visibleText(events)).not.toContain(server.baseIdentity.accessKeyId);
    });

    it('refuses a malformed key id before sending, and maps STS refusals to StsError', async () => {
      const { service } = await app();
      for (const keyId of ['AKIA-SHORT', 'AKIA 0000000000000000', 'A'.repeat(129)]) {
        expect(await rejection(service.getAccessKeyInfo(keyId))).toMatchObject({ name: 'StsValidationError', field: 'accessKeyId' });
      }
      expect(server.callCount()).toBe(0);

      server.injectFault({ kind: 'throttle' }, { action: 'GetAccessKeyInfo' });
      const error = await rejection(service.getAccessKeyInfo('AKIAUNKNOWN000000000'));
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'Throttling', operation: 'GetAccessKeyInfo', retryable: true });
    });
  });

  describe('getFederationToken (GetFederationToken)', () => {
    const POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] };

    it("issues a federated user's session that works, with its ARN, account and packed policy size", async () => {
      const { service, events } = await app();

      const credentials = await service.getFederationToken({
        name: 'support-bob',
        policy: POLICY,
        durationSeconds: 900,
        tags: { team: 'support' },
      });

      const federatedArn = `arn:aws:sts::${server.baseIdentity.account}:federated-user/support-bob`;
      expect(credentials).toMatchObject({
        accountId: server.baseIdentity.account,
        federatedUser: { arn: federatedArn, federatedUserId: `${server.baseIdentity.account}:support-bob` },
        packedPolicySize: expect.any(Number),
      });
      expect(credentials.expiration.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
      const client = new STSClient(server.stsClientConfig(credentials));
      try {
        expect((await client.send(new GetCallerIdentityCommand({}))).Arn).toBe(federatedArn);
      } finally {
        client.destroy();
      }
      expect(events).toEqual([
        expect.objectContaining({ type: 'sts-call', operation: 'GetFederationToken', outcome: 'success', sessionName: 'support-bob' }),
      ]);
      expect(visibleText(events)).not.toContain(credentials.sessionToken);
    });

    it('refuses a bad name, duration, policy or tags before sending anything', async () => {
      const { service } = await app();
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ name: 'x' }, 'name'],
        [{ name: 'has space' }, 'name'],
        [{ name: 'n'.repeat(33) }, 'name'],
        [{ name: 'bob', durationSeconds: 899 }, 'durationSeconds'],
        [{ name: 'bob', durationSeconds: 129_601 }, 'durationSeconds'],
        [{ name: 'bob', policy: '[1]' }, 'policy'],
        [{ name: 'bob', policyArns: ['arn:aws:iam::123456789012:role/NotAPolicy'] }, 'policyArns[0]'],
        [{ name: 'bob', tags: { 'aws:reserved': 'x' } }, 'tags'],
      ];
      for (const [request, field] of bad) {
        expect(await rejection(service.getFederationToken(request as never))).toMatchObject({
          name: 'StsValidationError',
          field,
          operation: 'GetFederationToken',
        });
      }
      expect(server.callCount()).toBe(0);
    });

    it('is refused to session credentials with AccessDenied and the hint that it needs an IAM user', async () => {
      const { service: base } = await app();
      const session = await base.getSessionToken({ durationSeconds: 900 });
      const moduleRef = await Test.createTestingModule({
        imports: [ServerAwsStsModule.configure(server.moduleConfig({ credentials: session, clientConfig: { maxAttempts: 1 } }))],
      }).compile();
      apps.push(moduleRef);

      const error = await rejection(moduleRef.get(StsService).getFederationToken({ name: 'bob', policy: POLICY }));

      expect(error).toMatchObject({ code: 'AccessDenied', operation: 'GetFederationToken', retryable: false, httpStatusCode: 403 });
      expect(error.hint).toMatch(/long-term access key of an IAM user/);
      expect(visibleText(error)).not.toContain(session.sessionToken);
    });
  });

  describe('getWebIdentityToken, webIdentityToken, webIdentityTokenProvider (GetWebIdentityToken)', () => {
    const claimsOf = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

    afterEach(() => server.setOutboundWebIdentityFederation(true));

    it.each(['RS256', 'ES384'] as const)(
      'issues a %s token signed by STS for the base identity, never shown in events or inspect',
      async (signingAlgorithm) => {
        const { service, events } = await app();

        const token = await service.getWebIdentityToken({
          audience: 'https://api.example.com',
          signingAlgorithm,
          durationSeconds: 120,
          tags: { tenant: 'acme' },
        });

        const [header, payload, signature] = token.token.split('.') as [string, string, string];
        const verifier = {
          key: server.webIdentityTokenPublicKey(signingAlgorithm),
          ...(signingAlgorithm === 'ES384' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
        };
        expect(
          verify(
            signingAlgorithm === 'RS256' ? 'sha256' : 'sha384',
            Buffer.from(`${header}.${payload}`),
            verifier,
            Buffer.from(signature, 'base64url'),
          ),
        ).toBe(true);
        expect(claimsOf(token.token)).toMatchObject({
          sub: server.baseIdentity.arn,
          aud: 'https://api.example.com',
          request_tags: { tenant: 'acme' },
        });
        expect(token.expiration.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
        expect(events).toEqual([expect.objectContaining({ type: 'sts-call', operation: 'GetWebIdentityToken', outcome: 'success' })]);
        expect(visibleText([token, events])).not.toContain(token.token);
      },
    );

    it('serves the cached token per set of inputs: one STS call for many callers, another for another audience', async () => {
      const { service } = await app();
      const tokenFor = service.webIdentityTokenProvider({ audience: ['https://api.example.com'] });

      const tokens = await Promise.all([
        tokenFor(),
        tokenFor(),
        service.webIdentityToken({ audience: 'https://api.example.com' }).then((t) => t.token),
      ]);
      expect(new Set(tokens).size).toBe(1);
      expect(server.callCount('GetWebIdentityToken')).toBe(1);

      const other = await service.webIdentityToken({ audience: 'https://other.example.com' });
      expect(other.token).not.toBe(tokens[0]);
      expect(await service.webIdentityToken({ audience: 'https://api.example.com', tags: { tenant: 'acme' } })).not.toEqual(
        expect.objectContaining({ token: tokens[0] }),
      );
      expect(server.callCount('GetWebIdentityToken')).toBe(3);
    });

    it('answers a disabled account with OutboundWebIdentityFederationDisabled and how to enable it', async () => {
      const { service } = await app();
      server.setOutboundWebIdentityFederation(false);

      const error = await rejection(service.webIdentityToken({ audience: 'https://api.example.com' }));

      expect(error).toMatchObject({
        code: 'OutboundWebIdentityFederationDisabled',
        operation: 'GetWebIdentityToken',
        retryable: false,
        httpStatusCode: 403,
      });
      expect(error.hint).toMatch(/enable it once in IAM/);
    });

    it('answers a token outliving the calling session with SessionDurationEscalation and its hint', async () => {
      const { service: base } = await app();
      const session = await base.getSessionToken({ durationSeconds: 900 });
      const moduleRef = await Test.createTestingModule({
        imports: [ServerAwsStsModule.configure(server.moduleConfig({ credentials: session, clientConfig: { maxAttempts: 1 } }))],
      }).compile();
      apps.push(moduleRef);

      const error = await rejection(
        moduleRef.get(StsService).getWebIdentityToken({ audience: 'https://api.example.com', durationSeconds: 3600 }),
      );

      expect(error).toMatchObject({ code: 'SessionDurationEscalation', operation: 'GetWebIdentityToken', retryable: false });
      expect(error.hint).toMatch(/no longer than the remaining life/);
    });

    it('refuses bad audiences, algorithm, duration, scope or tags before sending anything; a provider at once', async () => {
      const { service } = await app();
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ audience: [] }, 'audience'],
        [{ audience: Array.from({ length: 11 }, (_, n) => `aud-${n}`) }, 'audience'],
        [{ audience: '' }, 'audience[0]'],
        [{ audience: 'a'.repeat(1_001) }, 'audience[0]'],
        [{ audience: 'api', signingAlgorithm: 'HS256' }, 'signingAlgorithm'],
        [{ audience: 'api', durationSeconds: 59 }, 'durationSeconds'],
        [{ audience: 'api', durationSeconds: 3_601 }, 'durationSeconds'],
        [{ audience: 'api', scope: 'read' }, 'scope'],
        [{ audience: 'api', subjectMode: 'OriginIdentity', scope: 'read read' }, 'scope'],
        [{ audience: 'api', subjectMode: 'Someone' }, 'subjectMode'],
        [{ audience: 'api', tags: { 'aws:x': 'y' } }, 'tags'],
      ];
      for (const [request, field] of bad) {
        expect(await rejection(service.getWebIdentityToken(request as never))).toMatchObject({ name: 'StsValidationError', field });
        expect(await rejection(service.webIdentityToken(request as never))).toMatchObject({ name: 'StsValidationError', field });
        expect(() => service.webIdentityTokenProvider(request as never)).toThrow(StsValidationError);
      }
      expect(server.callCount()).toBe(0);
    });
  });

  describe('assumeRoot (AssumeRoot)', () => {
    const MEMBER = '222222222222';
    const TASK = 'arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy';

    afterEach(() => server.setCentralizedRootAccess(false));

    it("opens a member account's root session for one task, at most 900 s, that acts as that root user", async () => {
      server.setCentralizedRootAccess(true, [MEMBER]);
      const { service, events } = await app();

      const credentials = await service.assumeRoot({ targetPrincipal: MEMBER, taskPolicyArn: TASK });

      expect(credentials.accountId).toBe(MEMBER);
      expect(credentials.expiration.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
      const client = new STSClient(server.stsClientConfig(credentials));
      try {
        expect((await client.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${MEMBER}:root`);
      } finally {
        client.destroy();
      }
      expect(events).toEqual([
        expect.objectContaining({ type: 'sts-call', operation: 'AssumeRoot', outcome: 'success', accountId: MEMBER }),
      ]);
      expect(visibleText([events, credentials])).not.toContain(credentials.sessionToken);
      expect(visibleText([events, credentials])).not.toContain(credentials.secretAccessKey);
    });

    it('refuses a bad target, task policy or duration before sending anything', async () => {
      const { service } = await app();
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ taskPolicyArn: TASK }, 'targetPrincipal'],
        [{ targetPrincipal: '22222222222', taskPolicyArn: TASK }, 'targetPrincipal'],
        [{ targetPrincipal: `arn:aws:iam::${MEMBER}:root`, taskPolicyArn: TASK }, 'targetPrincipal'],
        [{ targetPrincipal: MEMBER }, 'taskPolicyArn'],
        [{ targetPrincipal: MEMBER, taskPolicyArn: 'arn:aws:iam::aws:policy/root-task/AdministratorAccess' }, 'taskPolicyArn'],
        [{ targetPrincipal: MEMBER, taskPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, 'taskPolicyArn'],
        [{ targetPrincipal: MEMBER, taskPolicyArn: `arn:aws:iam::${MEMBER}:policy/root-task/S3UnlockBucketPolicy` }, 'taskPolicyArn'],
        [{ targetPrincipal: MEMBER, taskPolicyArn: TASK, durationSeconds: 901 }, 'durationSeconds'],
        [{ targetPrincipal: MEMBER, taskPolicyArn: TASK, durationSeconds: -1 }, 'durationSeconds'],
        [{ targetPrincipal: MEMBER, taskPolicyArn: TASK, durationSeconds: 1.5 }, 'durationSeconds'],
      ];
      for (const [request, field] of bad) {
        expect(await rejection(service.assumeRoot(request as never))).toMatchObject({
          name: 'StsValidationError',
          field,
          operation: 'AssumeRoot',
        });
      }
      expect(server.callCount()).toBe(0);
    });

    it('is refused with AccessDenied and the hint when centralized root access is off or the target is no member', async () => {
      const { service, events } = await app();

      const off = await rejection(service.assumeRoot({ targetPrincipal: MEMBER, taskPolicyArn: TASK }));
      server.setCentralizedRootAccess(true, [MEMBER]);
      const stranger = await rejection(service.assumeRoot({ targetPrincipal: '999999999999', taskPolicyArn: TASK }));

      for (const error of [off, stranger]) {
        expect(error).toMatchObject({ code: 'AccessDenied', operation: 'AssumeRoot', retryable: false, httpStatusCode: 403 });
        expect(error.hint).toMatch(/centralized root access enabled/);
        expect(error.hint).toMatch(/delegated administrator/);
      }
      expect(events.map((event) => event.type === 'sts-call' && event.errorCode)).toEqual(['AccessDenied', 'AccessDenied']);
    });

    it.each([
      ['ExpiredTokenException', /base credentials have expired/],
      ['RegionDisabledException', /not activated in this region/],
    ] as const)('maps %s to its code and hint', async (code, hint) => {
      server.setCentralizedRootAccess(true, [MEMBER]);
      const { service } = await app();
      server.injectFault({ kind: 'error', code }, { action: 'AssumeRoot' });

      const error = await rejection(service.assumeRoot({ targetPrincipal: MEMBER, taskPolicyArn: TASK }));

      expect(error).toMatchObject({ code, operation: 'AssumeRoot', retryable: false });
      expect(error.hint).toMatch(hint);
    });

    it("is refused before anything is sent when the client resolves STS's global endpoint", async () => {
      const sent: string[] = [];
      const moduleRef = await Test.createTestingModule({
        imports: [
          ServerAwsStsModule.configure({
            AWS_REGION: 'us-east-1',
            credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
            clientConfig: {
              useGlobalEndpoint: true,
              maxAttempts: 1,
              // Never reaches AWS: a request that got this far is recorded and refused here.
              requestHandler: {
                handle: async (request: { hostname: string }) => {
                  sent.push(request.hostname);
                  throw new Error('no network in this spec');
                },
              } as never,
            },
          }),
        ],
      }).compile();
      apps.push(moduleRef);

      const error = await rejection(moduleRef.get(StsService).assumeRoot({ targetPrincipal: MEMBER, taskPolicyArn: TASK }));

      expect(error).toMatchObject({ code: 'InvalidConfiguration', operation: 'AssumeRoot', retryable: false });
      expect(error.message).toMatch(/global endpoint \(https:\/\/sts\.amazonaws\.com\)/);
      // The SDK is asked once per client: the verdict holds for the next call.
      await expect(moduleRef.get(StsService).assumeRoot({ targetPrincipal: MEMBER, taskPolicyArn: TASK })).rejects.toMatchObject({
        code: 'InvalidConfiguration',
      });
      expect(sent).toEqual([]);
    });
  });

  describe('getDelegatedAccessToken (GetDelegatedAccessToken)', () => {
    const CUSTOMER_ROLE = 'arn:aws:iam::444444444444:role/PartnerDelegation';

    it("exchanges a trade-in token for a session of the customer's principal; the token is never shown", async () => {
      const { service, events, logs } = await app();
      const token = server.issueTradeInToken(CUSTOMER_ROLE);

      const credentials = await service.getDelegatedAccessToken(token);

      expect(credentials).toMatchObject({ accountId: '444444444444', assumedPrincipal: CUSTOMER_ROLE });
      const client = new STSClient(server.stsClientConfig(credentials));
      try {
        expect((await client.send(new GetCallerIdentityCommand({}))).Arn).toMatch(
          /^arn:aws:sts::444444444444:assumed-role\/PartnerDelegation\//,
        );
      } finally {
        client.destroy();
      }
      expect(events).toEqual([expect.objectContaining({ type: 'sts-call', operation: 'GetDelegatedAccessToken', outcome: 'success' })]);
      expect(visibleText([events, logs, credentials])).not.toContain(token);
    });

    it('answers an expired token with ExpiredTradeInToken and its hint, and scrubs the token from the error', async () => {
      const { service, events, logs } = await app();
      const token = server.issueTradeInToken(CUSTOMER_ROLE, -1);
      server.injectFault(
        { kind: 'error', code: 'AccessDenied', message: `Token ${token} is not yours` },
        { action: 'GetDelegatedAccessToken' },
      );

      const refused = await rejection(service.getDelegatedAccessToken(token));
      const expired = await rejection(service.getDelegatedAccessToken(token));

      expect(refused).toMatchObject({ code: 'AccessDenied', operation: 'GetDelegatedAccessToken' });
      expect(refused.hint).toMatch(/sts:GetDelegatedAccessToken/);
      expect(expired).toMatchObject({ code: 'ExpiredTradeInToken', operation: 'GetDelegatedAccessToken', retryable: false });
      expect(expired.hint).toMatch(/approve the delegation request again/);
      expect(visibleText([refused, expired, events, logs])).not.toContain(token);
    });

    it('refuses an empty, oversized or non-string token before sending anything', async () => {
      const { service } = await app();
      for (const token of ['', 'x'.repeat(16_385), undefined]) {
        expect(await rejection(service.getDelegatedAccessToken(token as never))).toMatchObject({
          name: 'StsValidationError',
          field: 'tradeInToken',
        });
      }
      expect(server.callCount()).toBe(0);
    });
  });

  describe('AssumeRole with providedContexts (trusted identity propagation)', () => {
    const ROLE = 'arn:aws:iam::222222222222:role/IdentityAware';
    const PROVIDER = 'arn:aws:iam::aws:contextProvider/IdentityCenter';
    const context = (user: string) => ({ providerArn: PROVIDER, contextAssertion: `signed-context-assertion-of-${user}` });

    beforeAll(() => server.addRole({ arn: ROLE, trustedPrincipals: [server.baseIdentity.arn] }));

    it("keys the cache by the context: each user's context gets its own credentials, never another's", async () => {
      const { service } = await app();

      const plain = await service.getCredentials({ roleArn: ROLE });
      const alice = await service.getCredentials({ roleArn: ROLE, providedContexts: [context('alice')] });
      const bob = await service.getCredentials({ roleArn: ROLE, providedContexts: [context('bob')] });
      const aliceAgain = await service.getCredentials({ roleArn: ROLE, providedContexts: [context('alice')] });

      expect(new Set([plain.accessKeyId, alice.accessKeyId, bob.accessKeyId]).size).toBe(3);
      expect(aliceAgain.accessKeyId).toBe(alice.accessKeyId);
      expect(server.callCount('AssumeRole')).toBe(3);
    });

    it('scrubs the assertion from errors, and refuses bad contexts before sending', async () => {
      const { service, events, logs } = await app();
      const { contextAssertion } = context('carol');
      server.injectFault({ kind: 'error', code: 'AccessDenied', message: `Invalid context ${contextAssertion}` }, { action: 'AssumeRole' });

      const error = await rejection(service.assumeRole({ roleArn: ROLE, providedContexts: [context('carol')] }));
      expect(error).toMatchObject({ code: 'AccessDenied', operation: 'AssumeRole' });
      expect(visibleText([error, events, logs])).not.toContain(contextAssertion);

      server.resetCalls();
      const bad: Array<[unknown, string]> = [
        [Array.from({ length: 6 }, () => context('x')), 'providedContexts'],
        [[{ providerArn: 'arn:aws:iam::123456789012:role/NotAProvider', contextAssertion: 'abcd' }], 'providedContexts[0].providerArn'],
        [[{ providerArn: PROVIDER, contextAssertion: 'abc' }], 'providedContexts[0].contextAssertion'],
        [[{ providerArn: PROVIDER, contextAssertion: 'a'.repeat(2_049) }], 'providedContexts[0].contextAssertion'],
      ];
      for (const [providedContexts, field] of bad) {
        expect(await rejection(service.getCredentials({ roleArn: ROLE, providedContexts: providedContexts as never }))).toMatchObject({
          name: 'StsValidationError',
          field,
        });
      }
      expect(server.callCount()).toBe(0);
    });
  });
});
