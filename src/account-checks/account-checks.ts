import { generateExternalId } from '../onboarding/external-id.js';
import { STS_LIMITS } from '../sts/sts-limits.js';
import { StsError, toStsError } from '../errors/sts-error.js';
import type { AccessCheckOptions, AccessCheckResult, AccountAssumeResult, AssumeRoleRequest } from '../sts/sts-request.types.js';
import type { StsOperations } from '../sts/sts-operations.js';
import { prepareAssumeRole, type RequestDefaults } from '../sts/role-request.js';
import { parseIamArn } from '../sts/iam-arn.js';
import { RequestValidator } from '../sts/sts-validation.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';

/** Options of `StsService.assumeRoleInAccounts`. */
export interface FanOutOptions {
  /** Requests in flight at once. Default: 10. */
  concurrency?: number;
}

/** Maps `items` through `work` with at most `concurrency` calls in flight; results keep the order of the items. */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** What validateAccess's ExternalId probe found: `undefined` when it was not made, or failed with `error`. */
interface ProbeResult {
  enforced: boolean | undefined;
  error?: StsError;
}

/**
 * The customer's ExternalId with its last character changed: same length, same prefix. A digit replaces it, so the
 * near miss differs in any letter case (a `StringEqualsIgnoreCase` condition refuses it too) and keeps STS's rules.
 */
function nearMiss(externalId: string): string {
  return `${externalId.slice(0, -1)}${externalId.endsWith('0') ? '1' : '0'}`;
}

/** The refusal of a role whose ExternalId check did not come out `true`; never names the ExternalId. */
function notShownEnforced(roleArn: string, probe: ProbeResult): StsError {
  const code = probe.enforced === undefined ? 'ExternalIdNotChecked' : 'ExternalIdNotEnforced';
  const why = probe.error
    ? `: the probe failed (${probe.error.code})`
    : probe.enforced === undefined
      ? ': a request with MFA is not probed'
      : '';
  return new StsError(`The role ${roleArn} was not shown to require its ExternalId${why}`, {
    code,
    operation: 'AssumeRole',
    cause: probe.error,
  });
}

/** Checks on customer accounts: can a role be assumed, and credentials for many accounts at once. */
export class AccountChecks {
  constructor(
    private readonly defaults: RequestDefaults,
    private readonly operations: StsOperations,
    private readonly cachedCredentials: (request: AssumeRoleRequest) => Promise<TemporaryCredentials>,
  ) {}

  async validateAccess(request: AssumeRoleRequest, options: AccessCheckOptions = {}): Promise<AccessCheckResult> {
    try {
      // Prepared from one copy of the request, so the role checked is the role assumed, and probed.
      const copy = { ...request, durationSeconds: STS_LIMITS.roleDuration.min };
      const prepared = prepareAssumeRole(copy, this.defaults);
      const credentials = await this.operations.roles.assumeRole(prepared);
      const identity = await this.operations.identity.callerIdentityOf(credentials, prepared.input.RoleArn);
      const accountId = prepared.accountId;
      if (identity.Account !== accountId) {
        const error = new StsError(`The role ${prepared.input.RoleArn} resolved to account ${identity.Account}, not ${accountId}`, {
          code: 'AccountMismatch',
          operation: 'GetCallerIdentity',
        });
        return { ok: false, error };
      }
      const externalId = prepared.input.ExternalId;
      // No ExternalId: not enforced by definition. MFA: not probed, as a code cannot be sent twice.
      const probe: ProbeResult =
        externalId === undefined
          ? { enforced: false }
          : copy.mfa !== undefined
            ? { enforced: undefined }
            : await this.probeExternalId(copy, externalId);
      if (probe.enforced !== true && options.requireExternalIdEnforced) {
        return { ok: false, error: notShownEnforced(prepared.input.RoleArn, probe) };
      }
      return { ok: true, accountId, arn: identity.Arn ?? '', expiration: credentials.expiration, externalIdEnforced: probe.enforced };
    } catch (error) {
      return { ok: false, error: toStsError(error, 'AssumeRole') };
    }
  }

  /**
   * Assumes the role again, uncached, with two wrong ExternalIds: `AccessDenied` to both means the trust policy
   * refuses them. First a random value of the right form, which also unmasks a condition that only asks for some
   * ExternalId (`StringLike *`, `Null`) and passes a rule on this side that denies AssumeRole without one; then a near
   * miss of the customer's own value (its last character changed), which unmasks a wildcard condition such as
   * `StringLike "tenant-*"`. Any other failure proves nothing either way: the result is `undefined`, with the error.
   */
  private async probeExternalId(request: AssumeRoleRequest, externalId: string): Promise<ProbeResult> {
    for (const wrong of [generateExternalId(), nearMiss(externalId)]) {
      try {
        await this.operations.roles.assumeRole(prepareAssumeRole({ ...request, externalId: wrong }, this.defaults), { probe: true });
        return { enforced: false };
      } catch (error) {
        const stsError = toStsError(error, 'AssumeRole');
        if (stsError.code !== 'AccessDenied') return { enforced: undefined, error: stsError };
      }
    }
    return { enforced: true };
  }

  async assumeRoleInAccounts(requests: AssumeRoleRequest[], options: FanOutOptions = {}): Promise<AccountAssumeResult[]> {
    const concurrency = options.concurrency ?? 10;
    new RequestValidator('AssumeRole').require(
      Number.isInteger(concurrency) && concurrency >= 1,
      'concurrency',
      'must be an integer of at least 1',
    );
    return mapWithConcurrency(requests, concurrency, async (request): Promise<AccountAssumeResult> => {
      const accountId = parseIamArn(request?.roleArn, 'role')?.accountId ?? '';
      try {
        return { ok: true, accountId, credentials: await this.cachedCredentials(request) };
      } catch (error) {
        return { ok: false, accountId, error: toStsError(error, 'AssumeRole') };
      }
    });
  }
}
