/**
 * Injection token of the `STSClient` the module builds. Override it in tests:
 * `Test.createTestingModule(...).overrideProvider(STS_CLIENT).useValue(client)`.
 */
export const STS_CLIENT = Symbol('STS_CLIENT');

/** Injection token of the validated config, with every default applied (`ResolvedStsConfig`). */
export const STS_RESOLVED_CONFIG = Symbol('STS_RESOLVED_CONFIG');
