import { randomUUID } from 'node:crypto';
import type { STSClient } from '@aws-sdk/client-sts';
import { Subject } from 'rxjs';
import { AccountChecks } from '../account-checks/account-checks.js';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import type { StsEvent } from '../observability/sts-events.js';
import { StsMetrics } from '../observability/sts-metrics.js';
import { StsOperations } from '../sts/sts-operations.js';
import { sharingPrincipalOf } from '../sts/trust-principal.js';
import { CachedCredentials } from './cached-credentials.js';
import { CachedWebIdentityTokens } from './cached-web-identity-tokens.js';

/**
 * The parts behind one `StsService`, wired together once: `StsOperations` (the STS calls), `CachedCredentials` (the
 * cache, providers and clients), `CachedWebIdentityTokens`, `AccountChecks` (access checks and fan-out), the events
 * and, with a `meterProvider`, the metrics.
 */
export class StsServiceParts {
  /** One event per STS call and per cache transition, fed to the metrics and to `events$`. */
  readonly events = new Subject<StsEvent>();
  readonly operations: StsOperations;
  readonly cached: CachedCredentials;
  readonly accounts: AccountChecks;
  readonly tokens: CachedWebIdentityTokens;
  readonly metrics?: StsMetrics;

  constructor(
    private readonly config: ResolvedStsConfig,
    private readonly stsClient: STSClient,
  ) {
    const emit = (event: StsEvent) => {
      this.metrics?.record(event);
      this.events.next(event);
    };
    // The loop of role chaining, wired once: assumeRole → via → cached credentials → assumeRole.
    this.operations = new StsOperations(config, stsClient, emit, (via) => this.cached.getPrepared(via));
    const clock = { now: () => this.operations.now(), random: () => Math.random() };
    // Keys name the base identity: each service (each module configuration) has its own provider.
    const baseIdentityTag = `b${JSON.stringify(randomUUID())}`;
    this.tokens = new CachedWebIdentityTokens(
      config,
      baseIdentityTag,
      (request) => this.operations.outbound.getWebIdentityToken(request),
      clock,
    );
    this.cached = new CachedCredentials(config, {
      baseIdentityTag,
      emit,
      clock,
      assume: (prepared) => this.operations.roles.assumeRole(prepared),
      principal: () => this.operations.identity.getCallerIdentity().then(sharingPrincipalOf),
      sharedWaited: (ms, result) => this.metrics?.recordSharedWait(ms, result),
    });
    this.accounts = new AccountChecks(config, this.operations, (request) => this.cached.get(request));
    if (config.meterProvider) {
      this.metrics = new StsMetrics(config.meterProvider, {
        stats: () => this.cached.control.stats(),
        unexpired: () => {
          const now = this.operations.now();
          const { entries, soonestExpiration } = this.cached.unexpired(now);
          return { entries, secondsToSoonestExpiry: soonestExpiration === undefined ? undefined : (soonestExpiration - now) / 1000 };
        },
      });
    }
  }

  /** See `StsService.onModuleDestroy`. */
  async close(): Promise<void> {
    const drained = this.cached.close();
    this.tokens.stop();
    this.tokens.clear();
    this.metrics?.close();
    this.events.complete();
    await drained;
    if (this.config.ownsRequestHandler) this.stsClient.destroy();
  }
}
