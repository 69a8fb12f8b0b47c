import { hashKey, PreparedRequestIndex } from '../../src/cache/cache-key';
import { lookupsOf, type LookupContext, type RoleLookup } from '../../src/module/role-lookup';
import type { RequestDefaults } from '../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../src/sts/sts-request.types';

/** Lookups with no service behind them: the index's specs only resolve requests, nothing is fetched. */
const NO_SERVICE: LookupContext = {
  assume: () => Promise.reject(new Error('the index specs fetch nothing')),
  shared: () => undefined,
  operationTimeoutMs: 1_000,
};

const UnservedLookup = lookupsOf(NO_SERVICE);

/** The service's index of requests, with the lookups the service makes (`RoleLookup`), keyed under `base`. */
export function lookupIndex(defaults: RequestDefaults, maxSize = 1_000, base = 'b'): PreparedRequestIndex<RoleLookup> {
  return new PreparedRequestIndex(
    defaults,
    maxSize,
    (prepared) => hashKey(base, prepared),
    (prepared, key) => new UnservedLookup(key, prepared),
  );
}

/** The same index, answering each request with its cache key. */
export function keyIndex(defaults: RequestDefaults, maxSize = 1_000, base = 'b'): { resolve(request: AssumeRoleRequest): string } {
  const index = lookupIndex(defaults, maxSize, base);
  return { resolve: (request) => index.resolve(request).key };
}
