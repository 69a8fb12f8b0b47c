/**
 * The AWS side of the demo, on loopback: a local STS endpoint (from the testing kit) with the platform's base
 * identity and the roles its customers created for it, and a local S3 that records which key signed each request.
 * Nothing here talks to real AWS.
 */
import type { CustomerRoleTemplate } from '../src'; // in your app: 'nestjs-aws-sts'
import {
  startLocalServiceEndpoint,
  startLocalSts,
  type LocalServiceEndpoint,
  type LocalStsServer,
  type LocalStsIdentity,
} from '../src/testing'; // 'nestjs-aws-sts/testing'
import type { Tenant } from './tenant-access.service';

/** The SaaS platform's own IAM user: the base identity that signs every STS call. */
export const PLATFORM: LocalStsIdentity = {
  accessKeyId: 'AKIAPLATFORM00000001',
  secretAccessKey: 'platformSecretAccessKey00000000000000000',
  arn: 'arn:aws:iam::100000000000:user/platform-backend',
  account: '100000000000',
  userId: 'AIDAPLATFORM00000001',
};

const tenant = (id: string, name: string, account: string): Tenant => ({
  id,
  name,
  roleArn: `arn:aws:iam::${account}:role/TenantAccess`,
  externalId: `ext-${id}-7f3a9c`,
});

/** Customers as the platform's database knows them. Hooli saved its role but never set up the trust policy. */
export const TENANTS: Tenant[] = [
  tenant('acme', 'Acme', '200000000001'),
  tenant('globex', 'Globex', '200000000002'),
  tenant('initech', 'Initech', '200000000003'),
  tenant('umbrella', 'Umbrella', '200000000004'),
  tenant('hooli', 'Hooli', '200000000005'),
];
const UNTRUSTED = new Set(['hooli']);

/** A customer reached by role chaining: the platform assumes their hub role, which assumes the workload role. */
export const CHAINED_TENANT: Tenant = {
  id: 'wayne',
  name: 'Wayne (via hub)',
  roleArn: 'arn:aws:iam::300000000002:role/Workload',
  externalId: 'ext-wayne-spoke-51d0',
  via: { roleArn: 'arn:aws:iam::300000000001:role/PlatformHub', externalId: 'ext-wayne-hub-c42e' },
};

/** The local AWS: STS with every customer's roles and trust policies, and S3. */
export interface LocalAws {
  sts: LocalStsServer;
  s3: LocalServiceEndpoint;
  close(): Promise<void>;
}

/** Starts the local STS endpoint with every customer's roles and trust policies, and the local S3. */
export async function startLocalAws(): Promise<LocalAws> {
  const sts = await startLocalStsWithRoles();
  const s3 = await startLocalServiceEndpoint();
  return { sts, s3, close: async () => void (await Promise.all([sts.close(), s3.close()])) };
}

async function startLocalStsWithRoles(): Promise<LocalStsServer> {
  const server = await startLocalSts({ identities: [PLATFORM] });
  for (const { id, roleArn, externalId } of TENANTS) {
    server.addRole({ arn: roleArn, trustedPrincipals: UNTRUSTED.has(id) ? [] : [PLATFORM.arn], externalId, maxSessionDuration: 43200 });
  }
  const hub = CHAINED_TENANT.via!;
  server.addRole({ arn: hub.roleArn, trustedPrincipals: [PLATFORM.arn], externalId: hub.externalId, maxSessionDuration: 43200 });
  server.addRole({
    arn: CHAINED_TENANT.roleArn,
    trustedPrincipals: [hub.roleArn],
    externalId: CHAINED_TENANT.externalId,
    maxSessionDuration: 43200,
  });
  return server;
}

/**
 * What a customer's CloudFormation stack does, played on the local STS: creates the template's role in the
 * customer's account, trusting the template's principal under the ExternalId the customer's stack was given — or,
 * with `dropExternalIdCondition`, as a customer who edits the trust policy by hand and leaves the condition out.
 * Returns the stack's `RoleArn` output.
 */
export function createStackRole(
  server: LocalStsServer,
  template: CustomerRoleTemplate,
  account: string,
  externalId: string,
  { dropExternalIdCondition = false } = {},
): string {
  const { RoleName = 'CustomerRole', AssumeRolePolicyDocument, MaxSessionDuration } = template.Resources.Role.Properties;
  const [statement] = AssumeRolePolicyDocument.Statement;
  const arn = `arn:aws:iam::${account}:role/${RoleName}`;
  server.addRole({
    arn,
    trustedPrincipals: [statement.Principal.AWS],
    externalId: dropExternalIdCondition ? undefined : externalId,
    maxSessionDuration: MaxSessionDuration,
  });
  return arn;
}
