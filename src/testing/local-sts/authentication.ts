/**
 * Who signed a request: the SigV4 Authorization and X-Amz-Date headers checked as STS checks them (optionally
 * against a maximum clock skew), the signing key looked up among base identities and issued credentials, and
 * the signature verified by re-signing.
 */
import type { Caller, CredentialStore } from './credentials.js';
import { constantTimeEqual, parseAmzDate, parseAuthorization, verifySignature, type ReceivedRequest } from './sigv4.js';
import { compactDate, LocalStsFailure } from './wire-format.js';

/** What authentication needs from the server. */
export interface AuthenticationContext {
  credentials: CredentialStore;
  /** Server clock, epoch ms. */
  now: () => number;
  /** When set, signatures dated further than this from `now()` are refused. */
  maxClockSkewSeconds?: number;
}

/** The caller of a signed request; rejects with the STS error a bad signature or key gets. */
export async function authenticate(auth: AuthenticationContext, request: ReceivedRequest): Promise<Caller> {
  const { headers } = request;
  const authorization = headers['authorization'];
  if (!authorization) throw new LocalStsFailure('MissingAuthenticationToken');
  const parsed = parseAuthorization(authorization);
  if (!parsed) {
    throw new LocalStsFailure(
      'IncompleteSignature',
      `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${authorization.split(' ')[0] ?? ''}`,
    );
  }
  const amzDate = headers['x-amz-date'];
  if (!amzDate) {
    throw new LocalStsFailure(
      'IncompleteSignature',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw new LocalStsFailure('IncompleteSignature', 'X-Amz-Date must be in the ISO8601 Long Format');
  if (parsed.service !== 'sts' || parsed.terminator !== 'aws4_request') {
    throw new LocalStsFailure('SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sts'. ");
  }
  if (parsed.shortDate !== amzDate.slice(0, 8)) {
    throw new LocalStsFailure(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.shortDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.maxClockSkewSeconds !== undefined) checkClockSkew(auth.now(), auth.maxClockSkewSeconds, signingDate, amzDate);

  const token = headers['x-amz-security-token'];
  let caller: Caller;
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  const identity = auth.credentials.identity(parsed.accessKeyId);
  const issued = identity ? undefined : auth.credentials.issuedCredential(parsed.accessKeyId);
  if (identity) {
    if (token !== undefined) throw new LocalStsFailure('InvalidClientTokenId');
    caller = { kind: 'identity', identity };
    credentials = { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey };
  } else if (issued) {
    if (token === undefined || !constantTimeEqual(token, issued.sessionToken)) {
      throw new LocalStsFailure('InvalidClientTokenId');
    }
    if (issued.expiresAt <= auth.now()) throw new LocalStsFailure('ExpiredTokenException');
    caller = { kind: 'issued', cred: issued };
    credentials = {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
    };
  } else {
    throw new LocalStsFailure('InvalidClientTokenId');
  }
  const ok = await verifySignature({ request, auth: parsed, signingDate, credentials });
  if (!ok) throw new LocalStsFailure('SignatureDoesNotMatch');
  return caller;
}

function checkClockSkew(now: number, maxSkewSeconds: number, signingDate: Date, amzDate: string): void {
  const skewMs = maxSkewSeconds * 1000;
  if (signingDate.getTime() < now - skewMs) {
    throw new LocalStsFailure(
      'SignatureDoesNotMatch',
      `Signature expired: ${amzDate} is now earlier than ${compactDate(now - skewMs)} (${compactDate(now)} - ${maxSkewSeconds} sec.)`,
    );
  }
  if (signingDate.getTime() > now + skewMs) {
    throw new LocalStsFailure(
      'SignatureDoesNotMatch',
      `Signature not yet current: ${amzDate} is still later than ${compactDate(now + skewMs)} (${compactDate(now)} + ${maxSkewSeconds} sec.)`,
    );
  }
}
