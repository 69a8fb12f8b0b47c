import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Logger } from '@nestjs/common';
import { resolveStsConfig, ServerAwsStsConfig } from '../config/server-aws-sts.config.js';
import { createStsClient } from '../config/sts-client.factory.js';
import { encodedAuthorizationMessageOf, StsError } from '../errors/sts-error.js';
import { StsService } from '../module/sts.service.js';
import { customerRoleTemplate, type CustomerRoleTemplateOptions } from '../onboarding/customer-role-template.js';
import { customerRoleTerraform } from '../onboarding/customer-role-terraform.js';
import { quickCreateUrl } from '../onboarding/quick-create-url.js';
import { maskExternalId, readExternalId } from './external-id-input.js';

/** Where the command line reads its configuration and writes its answers: the process's, or a spec's. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Exit codes: done; the check or an STS call failed; the command line was wrong. */
export const CLI_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const USAGE = `Usage: nestjs-aws-sts <command> [options]

Commands:
  principal          print the principal a customer's trust policy must name for this app's base identity
  template           write the customer's role as a CloudFormation template (default) or Terraform JSON
  quick-create-url   make the CloudFormation console link that creates the customer's role
  check-role         check a customer's role: assume it, compare its account, probe that it requires the ExternalId
  decode-authorization-message
                     print why AWS denied a request: the decoded JSON of an encoded authorization failure message

Run \`nestjs-aws-sts <command> --help\` for a command's options.

Configured as the module is: ServerAwsStsConfig.fromEnv() (AWS_REGION, AWS_PROFILE, STS_EXTERNAL_ID, ...), the AWS
SDK's credential chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, ...) and its STS
endpoint variable (AWS_ENDPOINT_URL_STS). A customer's ExternalId comes from --external-id-file <path> (first line)
or STS_EXTERNAL_ID, and is never printed unmasked.

Exit codes: 0 done, 1 the check or an STS call failed, 2 a usage error.
`;

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

interface Command {
  help: string;
  options: Options;
  run(values: Values, context: CommandContext): Promise<number>;
}

interface CommandContext {
  io: CliIo;
  /** The StsService of the environment's configuration, made on first use and closed after the command. */
  sts(): StsService;
}

const EXTERNAL_ID_FILE = { 'external-id-file': { type: 'string' } } as const satisfies Options;

/** Writes `text` to `--out` when given (owner-only: it may hold the ExternalId), else to stdout. */
function deliver(io: CliIo, text: string, out: string | undefined): void {
  if (out === undefined) io.stdout.write(text);
  else {
    writeFileSync(out, text, { mode: 0o600 });
    io.stdout.write(`wrote ${out}\n`);
  }
}

const COMMANDS: Record<string, Command> = {
  principal: {
    help: `Usage: nestjs-aws-sts principal

Prints the principal a customer's trust policy must name (sts.trustPrincipal()): asks STS who the base identity is.
`,
    options: {},
    async run(_values, { io, sts }) {
      io.stdout.write(`${await sts().trustPrincipal()}\n`);
      return CLI_EXIT.ok;
    },
  },

  template: {
    help: `Usage: nestjs-aws-sts template [options]

Writes the customer's role (customerRoleTemplate / customerRoleTerraform). The ExternalId is a parameter (NoEcho)
or a sensitive variable that the customer fills in: the template never holds it.

  --format <cloudformation|terraform>  default: cloudformation (Terraform: JSON syntax, save it as *.tf.json)
  --principal <arn>                    the principal to trust; default: asks STS (as the principal command)
  --role-name <name>                   the role's name; default: CloudFormation's / Terraform's generated name
  --managed-policy-arn <arn>           a managed policy to attach (repeat for more)
  --max-session-duration <seconds>     3600–43200; default: IAM's 3600
  --allow-session-tags                 adds sts:TagSession
  --allow-source-identity              adds sts:SetSourceIdentity
  --out <file>                         write it there; default: stdout
`,
    options: {
      format: { type: 'string', default: 'cloudformation' },
      principal: { type: 'string' },
      'role-name': { type: 'string' },
      'managed-policy-arn': { type: 'string', multiple: true },
      'max-session-duration': { type: 'string' },
      'allow-session-tags': { type: 'boolean' },
      'allow-source-identity': { type: 'boolean' },
      out: { type: 'string' },
    },
    async run(values, { io, sts }) {
      if (values.format !== 'cloudformation' && values.format !== 'terraform')
        throw new UsageError('--format must be cloudformation or terraform');
      const duration = values['max-session-duration'] as string | undefined;
      const options: CustomerRoleTemplateOptions = {
        principalArn: (values.principal as string | undefined) ?? (await sts().trustPrincipal()),
        roleName: values['role-name'] as string | undefined,
        managedPolicyArns: values['managed-policy-arn'] as string[] | undefined,
        maxSessionDuration: duration === undefined ? undefined : Number(duration),
        allowSessionTags: values['allow-session-tags'] as boolean | undefined,
        allowSourceIdentity: values['allow-source-identity'] as boolean | undefined,
      };
      const text =
        values.format === 'terraform' ? customerRoleTerraform(options) : `${JSON.stringify(customerRoleTemplate(options), null, 2)}\n`;
      deliver(io, text, values.out as string | undefined);
      return CLI_EXIT.ok;
    },
  },

  'quick-create-url': {
    help: `Usage: nestjs-aws-sts quick-create-url --template-url <https url> --stack-name <name> [options]

Makes the console link that opens CloudFormation's quick-create page for the template (quickCreateUrl). With an
ExternalId (--external-id-file or STS_EXTERNAL_ID) the link holds it: it is then only written to --out (a file only
you can read), never printed. Without one, the customer types it in.

  --template-url <url>      the template's https URL (e.g. in S3)
  --stack-name <name>       the stack's name
  --region <region>         the console's region; default: AWS_REGION
  --external-id-file <path> a file whose first line is the customer's ExternalId
  --out <file>              write the link there (needed when it holds the ExternalId)
`,
    options: {
      'template-url': { type: 'string' },
      'stack-name': { type: 'string' },
      region: { type: 'string' },
      out: { type: 'string' },
      ...EXTERNAL_ID_FILE,
    },
    async run(values, { io }) {
      const externalId = readExternalId(values['external-id-file'] as string | undefined, io.env);
      const out = values.out as string | undefined;
      if (externalId !== undefined && out === undefined)
        throw new UsageError('the link would hold the ExternalId: give --out <file> to write it there');
      const link = quickCreateUrl({
        templateUrl: required(values, 'template-url'),
        stackName: required(values, 'stack-name'),
        region: (values.region as string | undefined) ?? io.env.AWS_REGION ?? '',
        parameters: externalId === undefined ? {} : { ExternalId: externalId },
      });
      deliver(io, `${link}\n`, out);
      return CLI_EXIT.ok;
    },
  },

  'check-role': {
    help: `Usage: nestjs-aws-sts check-role --role-arn <arn> [--external-id-file <path>]

Checks a customer's role (sts.validateAccess): assumes it for 900 s, compares the account, and with an ExternalId
(--external-id-file or STS_EXTERNAL_ID) probes that the role refuses two wrong ones. Exit code 0 when the role is
reachable and (with an ExternalId) shown to require it; 1 otherwise, with STS's error and the library's hint.

  --role-arn <arn>          the customer's role
  --external-id-file <path> a file whose first line is the customer's ExternalId
`,
    options: { 'role-arn': { type: 'string' }, ...EXTERNAL_ID_FILE },
    async run(values, { io, sts }) {
      const roleArn = required(values, 'role-arn');
      const externalId = readExternalId(values['external-id-file'] as string | undefined, io.env);
      const shown = externalId === undefined ? 'no ExternalId' : `ExternalId ${maskExternalId(externalId)}`;
      const result = await sts().validateAccess({ roleArn, externalId }, { requireExternalIdEnforced: externalId !== undefined });
      if (!result.ok) {
        io.stdout.write(`FAILED ${roleArn} with ${shown}\n`);
        writeError(io, result.error);
        return CLI_EXIT.failed;
      }
      const enforced = {
        true: 'required by the role (it refused two wrong values)',
        false: 'NOT required by the role',
        undefined: 'not checked',
      };
      io.stdout.write(
        `OK ${roleArn} (account ${result.accountId}) as ${result.arn}\n${shown}: ${enforced[`${result.externalIdEnforced}`]}\n`,
      );
      return CLI_EXIT.ok;
    },
  },

  'decode-authorization-message': {
    help: `Usage: nestjs-aws-sts decode-authorization-message --message-file <path>

Prints why AWS denied a request (sts.explainAuthorizationFailure): the decoded JSON of the encoded authorization
failure message some services (EC2 among them) end an AccessDenied with. The file holds the encoded message, or the
whole error text that ends with "Encoded authorization failure message: ...". The message reveals policies: it is
read from a file (not the command line, so it stays out of the shell's history) and never printed. The base identity
needs sts:DecodeAuthorizationMessage. Exit code 0 when decoded; 1 with STS's error and the library's hint.

  --message-file <path>  a file holding the encoded message, or the error text that carries it
`,
    options: { 'message-file': { type: 'string' } },
    async run(values, { io, sts }) {
      const text = readFileSync(required(values, 'message-file'), 'utf8').trim();
      const carried = new Error(text);
      const explanation = await sts().explainAuthorizationFailure(encodedAuthorizationMessageOf(carried) === undefined ? text : carried);
      io.stdout.write(`${JSON.stringify(explanation, null, 2)}\n`);
      return CLI_EXIT.ok;
    },
  },
};

/** A wrong command line: exit code 2, with the usage. */
class UsageError extends Error {}

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** An error as the command line shows it: an StsError's code, message and hint (none holds a secret), else its message. */
function writeError(io: CliIo, error: unknown): void {
  if (error instanceof StsError) {
    io.stderr.write(`error: ${error.code}: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
  } else io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
}

/** Makes the StsService the module would, from the same environment: uncached and without metrics, for one command. */
function serviceFromEnv(io: CliIo): StsService {
  // stdout holds only the command's answer: the library's warnings and errors go to stderr, its other logs nowhere.
  const quiet = () => undefined;
  const toStderr = (level: string) => (message: unknown) => io.stderr.write(`${level}: ${String(message)}\n`);
  Logger.overrideLogger({
    log: quiet,
    debug: quiet,
    verbose: quiet,
    fatal: toStderr('error'),
    error: toStderr('error'),
    warn: toStderr('warning'),
  });
  const config = ServerAwsStsConfig.fromEnv(io.env);
  const resolved = resolveStsConfig({ ...config, cache: false, metrics: false });
  return new StsService(resolved, createStsClient(resolved));
}

/**
 * Runs one command of `nestjs-aws-sts` and resolves to its exit code (`CLI_EXIT`); never throws. Configured from
 * `io.env`, as `ServerAwsStsConfig.fromEnv()` and the AWS SDK read it.
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(USAGE);
    return name === undefined ? CLI_EXIT.usage : CLI_EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(`error: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return CLI_EXIT.usage;
  }
  let service: StsService | undefined;
  try {
    const { values } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(command.help);
      return CLI_EXIT.ok;
    }
    return await command.run(values, { io, sts: () => (service ??= serviceFromEnv(io)) });
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    writeError(io, error);
    if (usage) io.stderr.write(`\n${command.help}`);
    return usage ? CLI_EXIT.usage : CLI_EXIT.failed;
  } finally {
    await service?.onModuleDestroy();
  }
}
