/** A local, in-process AWS STS endpoint for tests and the demo: see local-sts-server.ts. */
export { DEFAULT_LOCAL_STS_IDENTITY, type LocalStsIdentity } from './credentials';
export type { LocalStsCall } from './exchange';
export type { LocalStsFault, LocalStsFaultOptions } from './faults';
export type { LocalStsRole } from './iam-rules';
export { makeLocalSamlAssertion, makeLocalWebIdentityToken } from './identity-tokens';
export { LocalStsServer, type LocalStsServerOptions } from './local-sts-server';
export { LOCAL_STS_ERRORS, STS_API_VERSION, STS_XML_NAMESPACE, type LocalStsErrorCode } from './wire-format';
