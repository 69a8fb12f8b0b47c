/**
 * Property tests of StsService over a mocked STSClient (aws-sdk-client-mock):
 *  1. whatever a caller passes, each operation settles with TemporaryCredentials or an StsError: never another
 *     error, never a synchronous throw;
 *  2. whenever a command is sent, its input is within every STS input limit (an independent checker, written from
 *     the STS API reference, not from src/sts/sts-limits.ts);
 *  3. secrets planted in the request and echoed back by STS never show in the error (message, stack, cause,
 *     inspect, JSON), the Nest logs or `events$`.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { Logger } from '@nestjs/common';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  AssumeRootCommand,
  GetCallerIdentityCommand,
  GetDelegatedAccessTokenCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  StsError,
  TemporaryCredentials,
  type AssumeRoleRequest,
  type AssumeRoleWithSamlRequest,
  type AssumeRoleWithWebIdentityRequest,
  type AssumeRootRequest,
  type GetSessionTokenRequest,
  type StsEvent,
} from '../../src';
import type { StsService } from '../../src';
import { assumeRoleOutput, createService, serviceError, stsCredentials } from '../support/fixtures';
import {
  assumeRoleRequest,
  assumeRootRequest,
  samlRequest,
  serviceConfig,
  sessionTokenRequest,
  stsAnswer,
  tradeInToken,
  webIdentityRequest,
} from '../support/fuzz-requests';
import {
  checkAssumeRole,
  checkAssumeRoot,
  checkDelegatedAccessToken,
  checkSaml,
  checkSessionToken,
  checkWebIdentity,
  type CommandInput,
} from '../support/sts-limits-checker';
import { capturingLogger, visibleText } from '../support/visible-text';

const sts = mockClient(STSClient);
const RUNS = 300;
/** Fixed so CI is repeatable; `FUZZ_SEED=<n>` explores other inputs (a failure prints its seed). */
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const tmp = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-fuzz-'));
const VALID_TOKEN_FILE = join(tmp, 'token');
writeFileSync(VALID_TOKEN_FILE, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJmdXp6In0.sig\n');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------------------

type Outcome = { kind: 'sync-throw'; error: unknown } | { kind: 'resolved'; value: unknown } | { kind: 'rejected'; error: unknown };

/** Calls an operation, telling a synchronous throw from a rejection. */
async function settle(call: () => Promise<unknown>): Promise<Outcome> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return { kind: 'sync-throw', error };
  }
  if (!(promise instanceof Promise)) return { kind: 'sync-throw', error: new Error('did not return a promise') };
  return promise.then(
    (value) => ({ kind: 'resolved', value }),
    (error: unknown) => ({ kind: 'rejected', error }),
  );
}

/** Long runs of one character (the boundary-length strings) shown as `<'A'×100000>`. */
const compact = (text: string) => text.replace(/(.)\1{39,}/gsu, (run: string, char: string) => `<'${char}'×${[...run].length}>`);

/** fc.assert with a readable report: counterexamples with huge strings are compacted. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function check(property: fc.IAsyncProperty<any>, numRuns = RUNS): Promise<void> {
  const details = await fc.check(property, { numRuns, seed: SEED });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      compact(
        `Property failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}):\n  counterexample: ${fc.stringify(details.counterexample)}\n  ${cause}`,
      ),
    );
  }
}

const describeValue = (value: unknown) => inspect(value, { depth: 3, breakLength: Infinity, maxStringLength: 120, maxArrayLength: 8 });

function isAcceptable(outcome: Outcome): boolean {
  if (outcome.kind === 'resolved') return outcome.value instanceof TemporaryCredentials;
  return outcome.kind === 'rejected' && outcome.error instanceof StsError;
}

function mockAnswers(answer: { ok: true } | { ok: false; error: unknown }): void {
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/base', UserId: 'AIDABASE' });
  if (answer.ok) {
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn?: string }) => {
      const arn =
        typeof input.RoleArn === 'string' && input.RoleArn.split(':').length >= 6 && input.RoleArn.includes('/')
          ? input.RoleArn
          : undefined;
      return arn ? assumeRoleOutput(arn) : { Credentials: stsCredentials() };
    });
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: stsCredentials(), SubjectFromWebIdentityToken: 'sub' });
    sts.on(AssumeRoleWithSAMLCommand).resolves({ Credentials: stsCredentials(), Subject: 'subject' });
    sts.on(GetSessionTokenCommand).resolves({ Credentials: stsCredentials() });
    sts.on(AssumeRootCommand).resolves({ Credentials: stsCredentials() });
    sts
      .on(GetDelegatedAccessTokenCommand)
      .resolves({ Credentials: stsCredentials(), AssumedPrincipal: 'arn:aws:iam::123456789012:role/Partner' });
  } else {
    for (const command of [
      AssumeRoleCommand,
      AssumeRoleWithWebIdentityCommand,
      AssumeRoleWithSAMLCommand,
      GetSessionTokenCommand,
      AssumeRootCommand,
      GetDelegatedAccessTokenCommand,
    ] as const) {
      sts.on(command as typeof AssumeRoleCommand).callsFake(() => Promise.reject(answer.error));
    }
  }
}

interface Operation {
  name: string;
  request: fc.Arbitrary<unknown>;
  call: (service: StsService, request: unknown) => Promise<unknown>;
  sent: (service: StsService) => string[][];
}

const OPERATIONS: Operation[] = [
  {
    name: 'assumeRole',
    request: assumeRoleRequest,
    call: (service, request) => service.assumeRole(request as AssumeRoleRequest),
    sent: (service) =>
      sts
        .commandCalls(AssumeRoleCommand)
        .map((call) => checkAssumeRole(call.args[0].input as unknown as CommandInput, call.thisValue !== service.stsClient)),
  },
  {
    name: 'assumeRoleWithWebIdentity',
    request: webIdentityRequest(tmp, VALID_TOKEN_FILE),
    call: (service, request) => service.assumeRoleWithWebIdentity(request as AssumeRoleWithWebIdentityRequest),
    sent: () =>
      sts.commandCalls(AssumeRoleWithWebIdentityCommand).map((call) => checkWebIdentity(call.args[0].input as unknown as CommandInput)),
  },
  {
    name: 'assumeRoleWithSaml',
    request: samlRequest,
    call: (service, request) => service.assumeRoleWithSaml(request as AssumeRoleWithSamlRequest),
    sent: () => sts.commandCalls(AssumeRoleWithSAMLCommand).map((call) => checkSaml(call.args[0].input as unknown as CommandInput)),
  },
  {
    name: 'getSessionToken',
    request: sessionTokenRequest,
    call: (service, request) => service.getSessionToken(request as GetSessionTokenRequest),
    sent: () => sts.commandCalls(GetSessionTokenCommand).map((call) => checkSessionToken(call.args[0].input as unknown as CommandInput)),
  },
  {
    name: 'assumeRoot',
    request: assumeRootRequest,
    call: (service, request) => service.assumeRoot(request as AssumeRootRequest),
    sent: () => sts.commandCalls(AssumeRootCommand).map((call) => checkAssumeRoot(call.args[0].input as unknown as CommandInput)),
  },
  {
    name: 'getDelegatedAccessToken',
    request: tradeInToken,
    call: (service, request) => service.getDelegatedAccessToken(request as string),
    sent: () =>
      sts
        .commandCalls(GetDelegatedAccessTokenCommand)
        .map((call) => checkDelegatedAccessToken(call.args[0].input as unknown as CommandInput)),
  },
];

describe.each(OPERATIONS)('$name with arbitrary requests', ({ request, call, sent }) => {
  it('settles with TemporaryCredentials or an StsError: nothing else, never a synchronous throw', async () => {
    await check(
      fc.asyncProperty(request, serviceConfig, stsAnswer, async (input, config, answer) => {
        mockAnswers(answer);
        const service = createService(config);
        const outcome = await settle(() => call(service, input));
        await service.onModuleDestroy();
        if (!isAcceptable(outcome)) {
          throw new Error(`unexpected outcome ${outcome.kind}: ${describeValue('error' in outcome ? outcome.error : outcome.value)}`);
        }
      }),
    );
  });

  it('sends only inputs within every STS limit', async () => {
    const violations = new Map<string, string>();
    let sentCount = 0;
    await check(
      fc.asyncProperty(request, serviceConfig, async (input, config) => {
        mockAnswers({ ok: true });
        const service = createService(config);
        await settle(() => call(service, input));
        await service.onModuleDestroy();
        for (const found of sent(service)) {
          sentCount += 1;
          for (const rule of found) if (!violations.has(rule)) violations.set(rule, compact(describeValue(input)));
        }
      }),
    );
    // The generators reach the wire often enough for the check to mean something.
    expect(sentCount).toBeGreaterThan(RUNS / 20);
    expect(Object.fromEntries(violations)).toEqual({});
  });
});

describe('targeted cases', () => {
  it('webIdentityTokenFile given as a number is not read as a file descriptor', async () => {
    const file = join(tmp, 'fd-token');
    writeFileSync(file, 'token-read-through-a-file-descriptor');
    const fd = openSync(file, 'r');
    try {
      mockAnswers({ ok: true });
      const outcome = await settle(() =>
        createService().assumeRoleWithWebIdentity({
          roleArn: 'arn:aws:iam::123456789012:role/Web',
          webIdentityTokenFile: fd as unknown as string,
        }),
      );
      expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(0);
      expect(outcome).toMatchObject({ kind: 'rejected', error: expect.any(StsError) });
    } finally {
      closeSync(fd);
    }
  });

  it('an MFA tokenCode function that throws rejects with an StsError', async () => {
    mockAnswers({ ok: true });
    const outcome = await settle(() =>
      createService().assumeRole({
        roleArn: 'arn:aws:iam::123456789012:role/X',
        mfa: {
          serialNumber: 'GAHT12345678',
          tokenCode: () => {
            throw new Error('authenticator app unreachable');
          },
        },
      }),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', error: expect.any(StsError) });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Planted secrets
// ---------------------------------------------------------------------------------------------------------------

describe('planted secrets never leak', () => {
  const capture = capturingLogger();
  const logged = capture.lines;
  beforeAll(() => Logger.overrideLogger(capture));
  afterAll(() => Logger.overrideLogger(false));

  type Position =
    | 'webIdentityToken'
    | 'webIdentityTokenFile'
    | 'samlAssertion'
    | 'externalId'
    | 'configExternalId'
    | 'mfaAssumeRole'
    | 'mfaSessionToken'
    | 'tradeInToken';
  const POSITIONS: Position[] = [
    'webIdentityToken',
    'webIdentityTokenFile',
    'samlAssertion',
    'externalId',
    'configExternalId',
    'mfaAssumeRole',
    'mfaSessionToken',
    'tradeInToken',
  ];
  const marker = fc.stringMatching(/^SECRET[A-Za-z0-9]{10,30}$/);
  const ROLE = 'arn:aws:iam::123456789012:role/Tenant';
  const SAML_PROVIDER = 'arn:aws:iam::123456789012:saml-provider/Okta';

  /** Runs the operation for `position` with `secret` in it. */
  function callWith(
    position: Position,
    secret: string,
    tokenFile: string,
  ): { config: { EXTERNAL_ID?: string }; run: (service: StsService) => Promise<unknown> } {
    switch (position) {
      case 'webIdentityToken':
        return { config: {}, run: (s) => s.assumeRoleWithWebIdentity({ roleArn: ROLE, webIdentityToken: secret }) };
      case 'webIdentityTokenFile':
        writeFileSync(tokenFile, `${secret}\n`);
        return { config: {}, run: (s) => s.assumeRoleWithWebIdentity({ roleArn: ROLE, webIdentityTokenFile: tokenFile }) };
      case 'samlAssertion':
        return { config: {}, run: (s) => s.assumeRoleWithSaml({ roleArn: ROLE, principalArn: SAML_PROVIDER, samlAssertion: secret }) };
      case 'externalId':
        return { config: {}, run: (s) => s.assumeRole({ roleArn: ROLE, externalId: secret }) };
      case 'configExternalId':
        return { config: { EXTERNAL_ID: secret }, run: (s) => s.assumeRole({ roleArn: ROLE }) };
      case 'mfaAssumeRole':
        return {
          config: {},
          run: (s) => s.assumeRole({ roleArn: ROLE, mfa: { serialNumber: 'GAHT12345678', tokenCode: async () => secret } }),
        };
      case 'mfaSessionToken':
        return { config: {}, run: (s) => s.getSessionToken({ mfa: { serialNumber: 'GAHT12345678', tokenCode: secret } }) };
      case 'tradeInToken':
        return { config: {}, run: (s) => s.getDelegatedAccessToken(secret) };
    }
  }

  /** The MFA code is 6 digits: look for it as a whole number, not inside timestamps or durations. */
  const leaks = (text: string, secret: string) =>
    /^\d{6}$/.test(secret) ? new RegExp(`(?<![\\d.])${secret}(?!\\d)`).test(text) : text.includes(secret);

  interface Echo {
    name: string;
    before: string;
    after: string;
    times: number;
    status: number;
  }
  const echo: fc.Arbitrary<Echo> = fc.record({
    name: fc.constantFrom(
      'ValidationError',
      'AccessDenied',
      'InvalidIdentityTokenException',
      'IDPRejectedClaimException',
      'ExpiredTokenException',
      'Throttling',
      'InternalFailure',
    ),
    before: fc.string({ maxLength: 30 }),
    after: fc.string({ maxLength: 30 }),
    times: fc.integer({ min: 1, max: 3 }),
    status: fc.constantFrom(400, 403, 500),
  });

  /** An error as a mock can build it: the echo in the message, the raw body in plain `$response` fields. */
  function plainError(secret: string, e: Echo) {
    const message = `${e.before}Value '${Array.from({ length: e.times }, () => secret).join("', '")}' failed${e.after}`;
    return serviceError(e.name, message, e.status, {
      $response: { statusCode: e.status, headers: {}, body: `<Error><Message>${secret}</Message></Error>` },
      $responseBodyText: `<Error><Message>${secret}</Message></Error>`,
    });
  }

  /**
   * An error shaped exactly as @aws-sdk/client-sts builds one from an STS error response (seen over the wire in
   * over-the-wire.e2e.spec.ts): `$response` non-enumerable and non-configurable, and the parsed body copied onto
   * the error (`Error: { Type, Code, Message }`, `Type`, `Code`, `RequestId`).
   */
  function sdkShapedError(secret: string, e: Echo) {
    const error = plainError(secret, e) as unknown as Error & Record<string, unknown>;
    delete error.$response;
    delete error.$responseBodyText;
    Object.defineProperty(error, '$response', {
      value: { statusCode: e.status, headers: {}, body: `<Error><Message>${error.message}</Message></Error>` },
      enumerable: false,
      writable: false,
      configurable: false,
    });
    Object.assign(error, {
      Type: 'Sender',
      Code: e.name,
      Error: { Type: 'Sender', Code: e.name, Message: error.message },
      RequestId: 'req-0001',
    });
    return error;
  }

  async function plantAndCheck(position: Position, secret: string, error: unknown): Promise<void> {
    logged.length = 0;
    const tokenFile = join(tmp, `token-${position}`);
    const { config, run } = callWith(position, secret, tokenFile);
    sts.reset();
    for (const command of [
      AssumeRoleCommand,
      AssumeRoleWithWebIdentityCommand,
      AssumeRoleWithSAMLCommand,
      GetSessionTokenCommand,
      GetDelegatedAccessTokenCommand,
    ] as const) {
      sts.on(command as typeof AssumeRoleCommand).callsFake(() => Promise.reject(error));
    }
    const service = createService(config);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    const outcome = await settle(() => run(service));
    await service.onModuleDestroy();
    expect(sts.calls()).toHaveLength(1);
    if (outcome.kind !== 'rejected' || !(outcome.error instanceof StsError)) {
      throw new Error(`expected an StsError, got ${outcome.kind}: ${describeValue('error' in outcome ? outcome.error : outcome.value)}`);
    }
    const seen = [visibleText(outcome.error), ...logged, inspect(events, { depth: 10 }), JSON.stringify(events)].join('\n');
    if (leaks(seen, secret)) {
      const line = seen.split('\n').find((text) => leaks(text, secret));
      throw new Error(`secret at ${position} leaked: ${line?.slice(0, 300)}`);
    }
    expect(logged.length).toBeGreaterThan(0);
    expect(events).toHaveLength(1);
  }

  const secretFor = (position: Position) => (position.startsWith('mfa') ? fc.stringMatching(/^\d{6}$/) : marker);
  const planted = fc
    .constantFrom(...POSITIONS)
    .chain((position) => fc.record({ position: fc.constant(position), secret: secretFor(position), echo }));

  it('when STS echoes them in a message and a plain $response body', async () => {
    await check(fc.asyncProperty(planted, async ({ position, secret, echo: e }) => plantAndCheck(position, secret, plainError(secret, e))));
  });

  it('when the error is shaped as @aws-sdk/client-sts shapes it (hidden non-configurable $response, parsed body copied on)', async () => {
    await check(
      fc.asyncProperty(planted, async ({ position, secret, echo: e }) => plantAndCheck(position, secret, sdkShapedError(secret, e))),
    );
  });
});
