import { Injectable, type NestMiddleware } from '@nestjs/common';
import { runInRequestScope } from './request-scope.js';

/**
 * Binds each request it is applied to, so `sts.current` finds its tenant (resolved by `tenant.resolve` at first
 * use): `consumer.apply(StsTenantMiddleware).forRoutes('*')` in your module's `configure(consumer)`. Not needed
 * when the app sets up nestjs-cls (`ClsModule.forRoot` with its middleware, guard or interceptor): `sts.current`
 * reads the request from its context. Nothing is applied unless the app applies it.
 */
@Injectable()
export class StsTenantMiddleware implements NestMiddleware {
  /** Runs the rest of the request in its own scope. */
  use(request: unknown, _response: unknown, next: (error?: unknown) => void): void {
    runInRequestScope(request, next);
  }
}
