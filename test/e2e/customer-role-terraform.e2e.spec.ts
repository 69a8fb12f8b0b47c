/**
 * customerRoleTerraform read by Terraform itself: `terraform validate`, then `terraform plan` (no refresh, fake
 * credentials: nothing reaches AWS) with the ExternalId as TF_VAR_external_id, and the planned values compared with
 * trustPolicy's. Runs where `terraform` and a local copy of the hashicorp/aws provider are installed (TF_PLUGIN_DIR,
 * default /opt/tf-plugins); skipped elsewhere, as no registry is reachable from the specs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerRoleTerraform, trustPolicy } from '../../src';

const PLUGIN_DIR = process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins';
const hasTerraform = spawnSync('terraform', ['version'], { stdio: 'ignore' }).status === 0 && existsSync(PLUGIN_DIR);
const PRINCIPAL = 'arn:aws:iam::111122223333:role/Connector';
const EXTERNAL_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' }],
};
/** A provider that never calls AWS during a plan without refresh. */
const OFFLINE_PROVIDER = {
  provider: {
    aws: {
      region: 'us-east-1',
      access_key: 'AKIAEXAMPLE',
      secret_key: 'example',
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
    },
  },
};

const title = hasTerraform
  ? 'customerRoleTerraform read by terraform'
  : 'customerRoleTerraform read by terraform (skipped: no terraform binary with the aws provider here, and no registry to fetch one)';
(hasTerraform ? describe : describe.skip)(title, () => {
  let dir: string;
  const terraform = (args: string[], externalId: string) =>
    spawnSync('terraform', args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', TF_VAR_external_id: externalId },
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'role-tf-'));
    const options = {
      principalArn: PRINCIPAL,
      roleName: 'VendorAccess',
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      policy: POLICY,
      maxSessionDuration: 7200,
    };
    writeFileSync(join(dir, 'role.tf.json'), customerRoleTerraform(options));
    writeFileSync(join(dir, 'provider.tf.json'), JSON.stringify(OFFLINE_PROVIDER));
    execFileSync('terraform', ['init', `-plugin-dir=${PLUGIN_DIR}`, '-backend=false', '-input=false', '-no-color'], {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
    });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plans the role with trustPolicy’s document for the ExternalId given, its policies and session length', () => {
    expect(terraform(['validate', '-no-color'], EXTERNAL_ID).status).toBe(0);
    const plan = terraform(['plan', '-refresh=false', '-input=false', '-no-color', '-out=plan.bin'], EXTERNAL_ID);
    expect(plan.stderr).toBe('');
    expect(plan.stdout).not.toContain(EXTERNAL_ID); // a sensitive variable: never shown in the plan
    const planned = JSON.parse(terraform(['show', '-json', 'plan.bin'], EXTERNAL_ID).stdout);
    const after = (address: string) =>
      planned.resource_changes.find((change: { address: string }) => change.address === address).change.after;
    expect(JSON.parse(after('aws_iam_role.customer_role').assume_role_policy)).toEqual(
      trustPolicy({ principalArn: PRINCIPAL, externalId: EXTERNAL_ID }),
    );
    expect(after('aws_iam_role.customer_role')).toMatchObject({ name: 'VendorAccess', max_session_duration: 7200 });
    expect(JSON.parse(after('aws_iam_role_policy.access_policy').policy)).toEqual(POLICY); // ${aws:username} kept for IAM
    expect(after('aws_iam_role_policy_attachment.managed_policy_0').policy_arn).toBe('arn:aws:iam::aws:policy/ReadOnlyAccess');
  }, 120_000);

  it('never shows the ExternalId, even one outside STS’s rules (Terraform prints a value that fails a validation block)', () => {
    const plan = terraform(['plan', '-refresh=false', '-input=false', '-no-color'], 'not valid!');
    expect(plan.status).toBe(0);
    expect(`${plan.stdout}${plan.stderr}`).not.toContain('not valid!');
  }, 120_000);
});
