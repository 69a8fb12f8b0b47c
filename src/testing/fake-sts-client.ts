/**
 * Fakes at the level of the SDK's `STSClient`: a client that answers every command in process (for
 * `overrideProvider(STS_CLIENT)`), and the answers to give an aws-sdk-client-mock `mockClient(STSClient)`.
 */
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  AssumeRootCommand,
  DecodeAuthorizationMessageCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  GetDelegatedAccessTokenCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  GetWebIdentityTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { stsAnswer, type FakedStsOperation, type FakeStsOptions } from './sts-answers.js';

/** The command class of each operation, from the copy of `@aws-sdk/client-sts` the library itself sends with. */
const COMMANDS = {
  AssumeRole: AssumeRoleCommand,
  AssumeRoleWithWebIdentity: AssumeRoleWithWebIdentityCommand,
  AssumeRoleWithSAML: AssumeRoleWithSAMLCommand,
  GetSessionToken: GetSessionTokenCommand,
  GetCallerIdentity: GetCallerIdentityCommand,
  DecodeAuthorizationMessage: DecodeAuthorizationMessageCommand,
  GetAccessKeyInfo: GetAccessKeyInfoCommand,
  GetFederationToken: GetFederationTokenCommand,
  GetWebIdentityToken: GetWebIdentityTokenCommand,
  AssumeRoot: AssumeRootCommand,
  GetDelegatedAccessToken: GetDelegatedAccessTokenCommand,
} as const satisfies Record<FakedStsOperation, unknown>;

const isFaked = (operation: string): operation is FakedStsOperation => Object.hasOwn(COMMANDS, operation);

/**
 * An `STSClient` that never leaves the process: every STS command is answered by a middleware at the start of the
 * SDK's stack with well-formed credentials (see `stsAnswer`), so `getCredentials`, `clientFor` and the cache run
 * for real on top of it. For `Test.createTestingModule(...).overrideProvider(STS_CLIENT).useValue(fakeStsClient())`.
 * Its `send` can still be spied on (`jest.spyOn(client, 'send')`) to count calls.
 */
export function fakeStsClient(options: FakeStsOptions = {}): STSClient {
  // Static keys so the SDK never looks for a real identity; nothing is signed or sent.
  const client = new STSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAFAKESTSCLIENT000', secretAccessKey: 'fake' } });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const output = answerFor(String(context.commandName), args.input as Record<string, unknown>, options);
      return { output: { ...output, $metadata: { httpStatusCode: 200 } }, response: {} } as never;
    },
    { step: 'initialize', priority: 'high', name: 'nestjsAwsStsFakeAnswers' },
  );
  return client;
}

function answerFor(commandName: string, input: Record<string, unknown>, options: FakeStsOptions) {
  const operation = commandName.replace(/Command$/, '');
  if (!isFaked(operation)) throw new Error(`fakeStsClient answers the STS operations nestjs-aws-sts wraps, not ${commandName}`);
  return stsAnswer(operation, input, options);
}

/**
 * What `stsClientMockAnswers` needs of an aws-sdk-client-mock stub (`mockClient(STSClient)`): its `on(Command)`
 * and the behaviour's `callsFake`. Duck-typed, so aws-sdk-client-mock stays a devDependency of your app only.
 */
export interface StsClientMockLike {
  on(command: never): { callsFake(fake: (input: Record<string, unknown>) => unknown): unknown };
}

/**
 * Makes an aws-sdk-client-mock stub of `STSClient` answer the STS operations the library wraps as STS would — AssumeRole with
 * credentials and the assumed-role user, GetCallerIdentity with `options.identity` — so the module's cache works on
 * top of it. Returns the stub: `stsClientMockAnswers(mockClient(STSClient))`. Add your own behaviours after it
 * (`sts.on(AssumeRoleCommand, { RoleArn }).rejects(...)`): the later, more specific one wins.
 */
export function stsClientMockAnswers<Mock extends StsClientMockLike>(mock: Mock, options: FakeStsOptions = {}): Mock {
  for (const [operation, command] of Object.entries(COMMANDS) as [FakedStsOperation, never][]) {
    mock.on(command).callsFake((input) => stsAnswer(operation, input, options));
  }
  return mock;
}
