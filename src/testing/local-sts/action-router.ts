import { authenticate, type AuthenticationContext } from './authentication.js';
import type { OutboundTokens } from './outbound-tokens.js';
import type { StsQueryRequest } from './query-parameters.js';
import * as actions from './sts-actions.js';
import type { StsActionContext } from './sts-actions.js';
import { LocalStsFailure, STS_API_VERSION, type XmlNode } from './wire-format.js';

const SUPPORTED_ACTIONS = [
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithSAML',
  'GetSessionToken',
  'GetCallerIdentity',
  'DecodeAuthorizationMessage',
  'GetAccessKeyInfo',
  'GetFederationToken',
  'GetWebIdentityToken',
  'AssumeRoot',
  'GetDelegatedAccessToken',
] as const;
type Action = (typeof SUPPORTED_ACTIONS)[number];

/** What answering an action takes: the server's STS state, how it authenticates, its outbound tokens, its base account. */
export interface ActionRouting {
  sts: StsActionContext;
  authContext: AuthenticationContext;
  outboundTokens: OutboundTokens;
  /** The account of the server's `baseIdentity` (the organization's management account, for AssumeRoot). */
  baseAccount: string;
}

/** Answers one request's action (authenticated first where STS signs it), or throws a `LocalStsFailure`. */
export async function routeAction(routing: ActionRouting, request: StsQueryRequest): Promise<XmlNode> {
  const { action, params, received } = request;
  if (!action) throw new LocalStsFailure('MissingAction', 'Missing Action');
  const version = params.get('Version');
  if (!(SUPPORTED_ACTIONS as readonly string[]).includes(action) || version !== STS_API_VERSION) {
    throw new LocalStsFailure('InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`);
  }
  const { sts, authContext, outboundTokens, baseAccount } = routing;
  switch (action as Action) {
    case 'AssumeRole':
      return actions.assumeRole(sts, params, await authenticate(authContext, received));
    case 'GetSessionToken':
      return actions.getSessionToken(sts, params, await authenticate(authContext, received));
    case 'GetCallerIdentity':
      return actions.getCallerIdentity(await authenticate(authContext, received));
    case 'AssumeRoleWithWebIdentity':
      return actions.assumeRoleWithWebIdentity(sts, params);
    case 'AssumeRoleWithSAML':
      return actions.assumeRoleWithSaml(sts, params);
    case 'DecodeAuthorizationMessage':
      await authenticate(authContext, received);
      return actions.decodeAuthorizationMessage(sts, params);
    case 'GetAccessKeyInfo':
      await authenticate(authContext, received);
      return actions.getAccessKeyInfo(sts, params);
    case 'GetWebIdentityToken':
      return outboundTokens.issue(params, await authenticate(authContext, received));
    case 'GetFederationToken':
      return actions.getFederationToken(sts, params, await authenticate(authContext, received));
    case 'AssumeRoot':
      return actions.assumeRoot(sts, params, await authenticate(authContext, received), baseAccount);
    case 'GetDelegatedAccessToken':
      await authenticate(authContext, received);
      return actions.getDelegatedAccessToken(sts, params);
  }
}
