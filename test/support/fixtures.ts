import { STSClient } from '@aws-sdk/client-sts';
import { resolveStsConfig, type ServerAwsStsConfig } from '../../src/config/server-aws-sts.config';
import { StsService } from '../../src/module/sts.service';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/TenantAccess';
export const OTHER_ROLE_ARN = 'arn:aws:iam::210987654321:role/TenantAccess';
export const BASE_ACCOUNT = '111111111111';
export const BASE_CREDENTIALS = { accessKeyId: 'AKIABASEEXAMPLE00001', secretAccessKey: 'base-secret-key-example' };

let issued = 0;

/** An STS `Credentials` block like STS returns, valid for `seconds` from now (fake clocks included). */
export function stsCredentials(seconds = 3600, label = `${++issued}`) {
  return {
    AccessKeyId: `ASIAEXAMPLE${label}`,
    SecretAccessKey: `secret-${label}`,
    SessionToken: `token-${label}`,
    Expiration: new Date(Date.now() + seconds * 1000),
  };
}

/** An AssumeRole answer for `roleArn`. */
export function assumeRoleOutput(roleArn = ROLE_ARN, seconds = 3600, label?: string) {
  const [, , , , account, resource] = roleArn.split(':');
  return {
    Credentials: stsCredentials(seconds, label),
    AssumedRoleUser: {
      Arn: `arn:aws:sts::${account}:assumed-role/${resource.split('/').pop()}/session`,
      AssumedRoleId: 'AROAEXAMPLE:session',
    },
    PackedPolicySize: 6,
  };
}

/** The role of tenant number `tenant`, each in an account of its own. */
export const tenantRole = (tenant: number) => `arn:aws:iam::${String(100000000000 + tenant)}:role/TenantAccess`;

/**
 * An AssumeRole answer with secrets of realistic sizes (real session tokens run to about a kilobyte), numbered
 * `serial`: for benchmarks of speed and memory per entry.
 */
export function realisticAssumeRoleOutput(roleArn: string, seconds: number, serial: number) {
  const output = assumeRoleOutput(roleArn, seconds, String(serial).padStart(12, '0'));
  output.Credentials.SecretAccessKey = 'x'.repeat(40);
  output.Credentials.SessionToken = `IQoJb3JpZ2luX2Vj${'t'.repeat(900)}${serial}`;
  return output;
}

/** A service over a plain STSClient (mock it with aws-sdk-client-mock) and a resolved config. */
export function createService(config: ServerAwsStsConfig = {}): StsService {
  const resolved = resolveStsConfig({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, ...config });
  return new StsService(resolved, new STSClient({ region: 'us-east-1', credentials: BASE_CREDENTIALS, maxAttempts: 1 }));
}

/** An SDK-shaped service error, as the client throws it after parsing an STS error response. */
export function serviceError(name: string, message: string, status = 400, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'req-0001', attempts: 1 },
    ...extra,
  });
}
