import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/** The part of nestjs-cls's `ClsService` the library uses (nestjs-cls is an optional peer: never imported statically). */
interface ClsServiceLike {
  isActive(): boolean;
  get(key: symbol): unknown;
  set(key: symbol, value: unknown): void;
}

/** The part of nestjs-cls's exports the library uses. */
interface NestjsCls {
  ClsService: abstract new (...args: never[]) => ClsServiceLike;
  CLS_REQ: symbol;
  CLS_CTX: symbol;
}

/** The part of an `ExecutionContext` that leads to its HTTP request. */
interface ExecutionContextLike {
  getType(): string;
  switchToHttp(): { getRequest(): unknown };
}

/** The app's nestjs-cls context: its `ClsService`, and the HTTP request its active context holds. */
export interface ClsContext {
  readonly service: ClsServiceLike;
  /** `CLS_REQ` (saved by `ClsMiddleware`), or the HTTP request of `CLS_CTX` (saved by `ClsGuard` / `ClsInterceptor`). */
  request(): unknown;
}

/**
 * The app's `ClsService`, when nestjs-cls is installed and the app registered `ClsModule` (`forRoot` is the app's to
 * call, never the library's); otherwise `undefined`, and `sts.current` relies on `StsTenantMiddleware` alone.
 * Loaded with a dynamic `import()`, so an app without nestjs-cls never loads it.
 */
export async function findClsContext(moduleRef: ModuleRef): Promise<ClsContext | undefined> {
  let cls: NestjsCls;
  try {
    const loaded = (await import('nestjs-cls')) as unknown as NestjsCls & { default?: NestjsCls };
    cls = loaded.ClsService === undefined && loaded.default !== undefined ? loaded.default : loaded;
  } catch {
    return undefined; // not installed
  }
  let service: ClsServiceLike;
  try {
    service = moduleRef.get(cls.ClsService, { strict: false });
  } catch {
    return undefined; // installed, but the app did not set up ClsModule
  }
  new Logger('StsService').debug('sts.current reads the request tenant from nestjs-cls contexts too');
  return {
    service,
    request: () => {
      const saved = service.get(cls.CLS_REQ);
      if (saved !== undefined) return saved;
      const context = service.get(cls.CLS_CTX) as ExecutionContextLike | undefined;
      return context?.getType() === 'http' ? context.switchToHttp().getRequest() : undefined;
    },
  };
}
