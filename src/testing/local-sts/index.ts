/** A local, in-process AWS STS endpoint for tests and the demo: see local-sts-server.ts. */
export { DEFAULT_LOCAL_STS_IDENTITY, type LocalStsIdentity } from './credentials.js';
export type { LocalStsCall } from './exchange.js';
export type { LocalStsFault, LocalStsFaultOptions } from './faults.js';
export type { LocalStsRole } from './iam-rules.js';
export { makeLocalSamlAssertion, makeLocalWebIdentityToken } from './identity-tokens.js';
export { LocalStsServer, startLocalSts, type LocalStsServerOptions } from './local-sts-server.js';
export { LOCAL_STS_ERRORS, STS_API_VERSION, STS_XML_NAMESPACE, type LocalStsErrorCode } from './wire-format.js';
