/** What an app writes on top of StsService: one place that knows how to reach each customer's AWS account. */
import { Inject, Injectable } from '@nestjs/common';
import { ListBucketsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { StsService, type AccessCheckResult, type AccountAssumeResult, type AssumeRoleRequest, type TemporaryCredentials } from '../src'; // in your app: 'nestjs-aws-sts'

/** A customer as the platform stores it: the role they created for us and the ExternalId we gave them. */
export interface Tenant {
  id: string;
  name: string;
  roleArn: string;
  externalId: string;
  /** Set when the role is reached by role chaining through a hub role. */
  via?: { roleArn: string; externalId: string };
}

/** Settings for the S3 clients made for tenants (here: the local S3 endpoint; in production usually `{}`). */
export const AWS_CLIENT_CONFIG = Symbol('AWS_CLIENT_CONFIG');

@Injectable()
export class TenantAccessService {
  constructor(
    private readonly sts: StsService,
    @Inject(AWS_CLIENT_CONFIG) private readonly clientConfig: Omit<S3ClientConfig, 'credentials'>,
  ) {}

  /**
   * At sign-up: checks the customer's role works with their ExternalId, lands in their account, and refuses anyone
   * without it (a role that does not is the confused-deputy hole). Never throws.
   */
  onboard(tenant: Tenant): Promise<AccessCheckResult> {
    return this.sts.validateAccess(this.requestFor(tenant), { requireExternalIdEnforced: true });
  }

  /** Credentials acting in the customer's account, from the cache while they are fresh. */
  credentialsFor(tenant: Tenant): Promise<TemporaryCredentials> {
    return this.sts.getCredentials(this.requestFor(tenant));
  }

  /**
   * Per request: the tenant's S3 client from the pool (one per tenant, reused, signing with the tenant's cached
   * credentials), listing the buckets of the customer's account. Any AWS SDK v3 client works the same way.
   */
  async bucketsOf(tenant: Tenant): Promise<string[]> {
    const { Buckets = [] } = await this.sts
      .clientFor(S3Client, this.requestFor(tenant), this.clientConfig)
      .send(new ListBucketsCommand({}));
    return Buckets.map((bucket) => bucket.Name ?? '');
  }

  /** A nightly job across every customer: one result per tenant, never a rejection as a whole. */
  credentialsForAll(tenants: Tenant[]): Promise<AccountAssumeResult[]> {
    return this.sts.assumeRoleInAccounts(
      tenants.map((tenant) => this.requestFor(tenant)),
      { concurrency: 3 },
    );
  }

  /** The one AssumeRole request per tenant: every method uses it, so they all share one cache entry. */
  requestFor({ id, roleArn, externalId, via }: Tenant): AssumeRoleRequest {
    // A stable session name shows the tenant in the customer's CloudTrail.
    return { roleArn, externalId, sessionName: `platform-${id}`, via: via && { ...via, sessionName: `platform-${id}-hub` } };
  }
}
