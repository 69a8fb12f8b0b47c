// `nestjs-aws-sts/testing`: the testing kit. Every name here is documented in docs/reference/exports.md and in
// docs/testing.md. Loaded only by an app's tests: the main entry never imports it.
export {
  startLocalSts,
  type LocalStsServer,
  type LocalStsServerOptions,
  type LocalStsRole,
  type LocalStsIdentity,
  type LocalStsFault,
  type LocalStsFaultOptions,
  type LocalStsCall,
  type LocalStsErrorCode,
  makeLocalSamlAssertion,
  makeLocalWebIdentityToken,
} from './local-sts/index.js';
export { fakeStsService, FakeStsService, type FakeStsCall, type StsServiceShape } from './fake-sts-service.js';
export { fakeStsClient, stsClientMockAnswers, type StsClientMockLike } from './fake-sts-client.js';
export type { FakeStsOptions, FakeStsIdentity } from './sts-answers.js';
export { startLocalServiceEndpoint, type LocalServiceEndpoint, type SignedRequest, type ServiceRule } from './local-service-endpoint.js';
