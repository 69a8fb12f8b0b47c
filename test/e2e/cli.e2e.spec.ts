/**
 * The `nestjs-aws-sts` command line, run as a user runs it: `node` on the CommonJS JavaScript of src/cli/main.ts (src/
 * transpiled once for the file, as dist/cjs is laid out) in a child process, configured only by environment
 * variables, against the local STS.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerRoleTemplate, customerRoleTerraform } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';
import { transpiledSources } from '../support/transpiled-sources';

const BASE_ACCOUNT_ROOT = 'arn:aws:iam::111111111111:root';
const ENFORCING_ROLE = 'arn:aws:iam::222222222222:role/VendorAccess';
const OPEN_ROLE = 'arn:aws:iam::333333333333:role/VendorAccess';
const EXTERNAL_ID = '9f86d081884c7d659a2feaa0c55ad015';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('nestjs-aws-sts (the command line)', () => {
  let server: LocalStsServer;
  let dir: string;
  let externalIdFile: string;
  let compiled: ReturnType<typeof transpiledSources>;

  /** Runs the command with only the environment a user would set (no profile, no shared config). */
  function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const { accessKeyId, secretAccessKey } = server.baseIdentity;
    const base = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_ENDPOINT_URL_STS: server.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(compiled.dir, 'cli', 'main.js'), ...args],
        { cwd: dir, env: { ...base, ...env } },
        (error, stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
        },
      );
    });
  }

  /** Every output of a run: what a log of the command would hold. */
  const printed = (run: Run) => `${run.stdout}${run.stderr}`;

  beforeAll(async () => {
    compiled = transpiledSources();
    server = await startLocalSts({
      roles: [
        { arn: ENFORCING_ROLE, trustedPrincipals: [BASE_ACCOUNT_ROOT], externalId: EXTERNAL_ID },
        { arn: OPEN_ROLE, trustedPrincipals: [BASE_ACCOUNT_ROOT] },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'sts-cli-'));
    externalIdFile = join(dir, 'external-id');
    writeFileSync(externalIdFile, `${EXTERNAL_ID}\n`);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    compiled.remove();
  });

  it('--help lists the commands and exit codes (exit 0); no command prints the usage with exit 2; an unknown one exits 2', async () => {
    const [help, none, unknown, badOption] = await Promise.all([
      cli(['--help']),
      cli([]),
      cli(['frobnicate']),
      cli(['template', '--nope']),
    ]);
    expect(help.code).toBe(0);
    for (const command of ['principal', 'template', 'quick-create-url', 'check-role', 'decode-authorization-message']) {
      expect(help.stdout).toContain(command);
    }
    expect(help.stdout).toContain('Exit codes');
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toContain('Usage: nestjs-aws-sts');
    expect(unknown.code).toBe(2);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('--nope');
  }, 60_000);

  it('principal: prints the trust principal of the configured base identity, asked of the local STS', async () => {
    const before = server.callCount('GetCallerIdentity');
    const run = await cli(['principal']);
    expect(run).toMatchObject({ code: 0, stdout: `${server.baseIdentity.arn}\n` });
    expect(server.callCount('GetCallerIdentity')).toBe(before + 1);
    expect(printed(run)).not.toContain(server.baseIdentity.secretAccessKey);
  }, 60_000);

  it('template: the CloudFormation template to stdout, the Terraform JSON to a file, both of the STS principal', async () => {
    const out = join(dir, 'role.tf.json');
    const [cloudFormation, terraform] = await Promise.all([
      cli(['template', '--role-name', 'VendorAccess', '--managed-policy-arn', 'arn:aws:iam::aws:policy/ReadOnlyAccess']),
      cli(['template', '--format', 'terraform', '--principal', BASE_ACCOUNT_ROOT, '--max-session-duration', '7200', '--out', out]),
    ]);
    expect(cloudFormation.code).toBe(0);
    const expected = customerRoleTemplate({
      principalArn: server.baseIdentity.arn,
      roleName: 'VendorAccess',
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    });
    expect(JSON.parse(cloudFormation.stdout)).toEqual(expected);
    expect(terraform).toMatchObject({ code: 0, stdout: `wrote ${out}\n` });
    expect(readFileSync(out, 'utf8')).toBe(customerRoleTerraform({ principalArn: BASE_ACCOUNT_ROOT, maxSessionDuration: 7200 }));
  }, 60_000);

  it('template: a bad option value fails with the validation error (exit 1), a bad format with the usage (exit 2)', async () => {
    const [badDuration, badFormat] = await Promise.all([
      cli(['template', '--principal', BASE_ACCOUNT_ROOT, '--max-session-duration', '60']),
      cli(['template', '--principal', BASE_ACCOUNT_ROOT, '--format', 'yaml']),
    ]);
    expect(badDuration.code).toBe(1);
    expect(badDuration.stderr).toContain('error: InvalidInput: maxSessionDuration');
    expect(badFormat.code).toBe(2);
  }, 60_000);

  it('quick-create-url: prints the link without an ExternalId; with one, writes it only to --out (owner-only) and never prints it', async () => {
    const link = ['quick-create-url', '--template-url', 'https://bucket.s3.amazonaws.com/role.json', '--stack-name', 'VendorAccess'];
    const out = join(dir, 'link.txt');
    const [plain, refused, written] = await Promise.all([
      cli(link),
      cli(link, { STS_EXTERNAL_ID: EXTERNAL_ID }),
      cli([...link, '--external-id-file', externalIdFile, '--out', out]),
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudformation\/home\?region=us-east-1#\/stacks\/quickcreate\?templateURL=/,
    );
    expect(plain.stdout).not.toContain('param_ExternalId');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--out');
    expect(written).toMatchObject({ code: 0, stdout: `wrote ${out}\n` });
    expect(readFileSync(out, 'utf8')).toContain(`param_ExternalId=${EXTERNAL_ID}`);
    expect(statSync(out).mode & 0o077).toBe(0);
    for (const run of [plain, refused, written]) expect(printed(run)).not.toContain(EXTERNAL_ID);
  }, 60_000);

  it('check-role: a role requiring its ExternalId passes (exit 0), showing the ExternalId masked', async () => {
    const before = server.callCount('AssumeRole');
    const run = await cli(['check-role', '--role-arn', ENFORCING_ROLE, '--external-id-file', externalIdFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`OK ${ENFORCING_ROLE} (account 222222222222)`);
    expect(run.stdout).toContain('ExternalId ****d015: required by the role');
    expect(server.callCount('AssumeRole')).toBe(before + 3); // the role, then two probes
    expect(printed(run)).not.toContain(EXTERNAL_ID);
  }, 60_000);

  it('check-role: a wrong ExternalId, or a role that does not require it, fails (exit 1) with the code and the hint', async () => {
    const [denied, open] = await Promise.all([
      cli(['check-role', '--role-arn', ENFORCING_ROLE], { STS_EXTERNAL_ID: 'wrong-value-0123456789abcdef' }),
      cli(['check-role', '--role-arn', OPEN_ROLE], { STS_EXTERNAL_ID: EXTERNAL_ID }),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain(`FAILED ${ENFORCING_ROLE} with ExternalId ****cdef`);
    expect(denied.stderr).toMatch(/^error: AccessDenied: /m);
    expect(denied.stderr).toMatch(/^hint: .*ExternalId/m);
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/^error: ExternalIdNotEnforced: /m);
    for (const run of [denied, open]) expect(printed(run)).not.toMatch(new RegExp(`${EXTERNAL_ID}|wrong-value-0123456789abcdef`));
  }, 60_000);

  describe('decode-authorization-message', () => {
    const DENIAL = {
      allowed: false,
      explicitDeny: true,
      matchedStatements: {
        items: [{ statementId: 'NoBigInstances', effect: 'DENY', actions: { items: [{ value: 'ec2:RunInstances' }] } }],
      },
      failures: { items: [] },
      context: { principal: { arn: 'arn:aws:iam::111111111111:user/local-test' }, action: 'ec2:RunInstances', resource: '*' },
    };

    it('prints the decoded JSON of a message in a file, or in the whole error text pasted there (exit 0)', async () => {
      const encoded = server.encodeAuthorizationMessage(DENIAL);
      const messageFile = join(dir, 'message');
      const errorFile = join(dir, 'error');
      writeFileSync(messageFile, `${encoded}\n`);
      writeFileSync(
        errorFile,
        `An error occurred (UnauthorizedOperation): You are not authorized. Encoded authorization failure message: ${encoded}\n`,
      );
      const before = server.callCount('DecodeAuthorizationMessage');

      const runs = await Promise.all([
        cli(['decode-authorization-message', '--message-file', messageFile]),
        cli(['decode-authorization-message', '--message-file', errorFile]),
      ]);

      for (const run of runs) {
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({
          allowed: false,
          explicitDeny: true,
          action: 'ec2:RunInstances',
          matchedStatements: [{ statementId: 'NoBigInstances', effect: 'DENY', actions: ['ec2:RunInstances'] }],
          decoded: DENIAL,
        });
        expect(printed(run)).not.toContain(encoded);
      }
      expect(server.callCount('DecodeAuthorizationMessage')).toBe(before + 2);
    }, 60_000);

    it('a message STS cannot decode fails (exit 1) with the code and the hint, the message never printed', async () => {
      const forged = 'forged-encoded-authorization-message-0123456789';
      const messageFile = join(dir, 'forged');
      writeFileSync(messageFile, forged);

      const run = await cli(['decode-authorization-message', '--message-file', messageFile]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('error: InvalidAuthorizationMessage');
      expect(run.stderr).toContain('hint: STS could not decode the message');
      expect(printed(run)).not.toContain(forged);
    }, 60_000);

    it('without --message-file: the usage (exit 2), nothing sent', async () => {
      const before = server.calls.length;
      const run = await cli(['decode-authorization-message']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--message-file is required');
      expect(server.calls.length).toBe(before);
    }, 60_000);
  });

  it('check-role without --role-arn: the usage (exit 2), nothing sent', async () => {
    const before = server.calls.length;
    const run = await cli(['check-role']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--role-arn is required');
    expect(server.calls.length).toBe(before);
  }, 60_000);
});
