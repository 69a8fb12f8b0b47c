/**
 * The STS Query protocol's answers, as real STS writes them: the XML namespace and API version, the error codes
 * with their HTTP status and fault type, and the success, error and (for fault injection) broken XML documents.
 */

/** XML namespace of every STS response document. */
export const STS_XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** The only `Version` parameter STS accepts. */
export const STS_API_VERSION = '2011-06-15';

/** STS error codes this server can answer with (see LOCAL_STS_ERRORS for status/type). */
export type LocalStsErrorCode =
  | 'AccessDenied'
  | 'ValidationError'
  | 'Throttling'
  | 'InvalidClientTokenId'
  | 'SignatureDoesNotMatch'
  | 'RequestExpired'
  | 'ExpiredTokenException'
  | 'InvalidIdentityToken'
  | 'IDPRejectedClaim'
  | 'IDPCommunicationError'
  | 'MalformedPolicyDocument'
  | 'PackedPolicyTooLarge'
  | 'RegionDisabledException'
  | 'InvalidAuthorizationMessageException'
  | 'OutboundWebIdentityFederationDisabledException'
  | 'SessionDurationEscalationException'
  | 'ExpiredTradeInTokenException'
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'InvalidAction'
  | 'MissingAction'
  | 'InternalFailure'
  | 'ServiceUnavailable';

/** HTTP status, fault type and default message of each STS error code. */
export const LOCAL_STS_ERRORS: Readonly<Record<LocalStsErrorCode, { status: number; type: 'Sender' | 'Receiver'; message: string }>> = {
  AccessDenied: { status: 403, type: 'Sender', message: 'Access denied' },
  ValidationError: { status: 400, type: 'Sender', message: 'Validation error' },
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  InvalidClientTokenId: {
    status: 403,
    type: 'Sender',
    message: 'The security token included in the request is invalid.',
  },
  SignatureDoesNotMatch: {
    status: 403,
    type: 'Sender',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  },
  RequestExpired: { status: 403, type: 'Sender', message: 'Request has expired.' },
  ExpiredTokenException: {
    status: 400,
    type: 'Sender',
    message: 'The security token included in the request is expired',
  },
  InvalidIdentityToken: { status: 400, type: 'Sender', message: 'The web identity token that was passed is invalid.' },
  IDPRejectedClaim: { status: 403, type: 'Sender', message: 'The identity provider rejected the claim.' },
  IDPCommunicationError: {
    status: 400,
    type: 'Sender',
    message:
      'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.',
  },
  MalformedPolicyDocument: { status: 400, type: 'Sender', message: 'The policy is not in the valid JSON format.' },
  PackedPolicyTooLarge: { status: 400, type: 'Sender', message: 'Packed policy consumes more than the allotted space.' },
  RegionDisabledException: {
    status: 403,
    type: 'Sender',
    message:
      'STS is not activated in this region for account. Your account administrator can activate STS in this region using the IAM Console.',
  },
  InvalidAuthorizationMessageException: { status: 400, type: 'Sender', message: 'The message is invalid' },
  OutboundWebIdentityFederationDisabledException: {
    status: 403,
    type: 'Sender',
    message: 'Outbound web identity federation is disabled for this account.',
  },
  SessionDurationEscalationException: {
    status: 400,
    type: 'Sender',
    message: 'The requested token duration exceeds the remaining duration of the calling session.',
  },
  ExpiredTradeInTokenException: {
    status: 400,
    type: 'Sender',
    message: 'The trade-in token has expired and can no longer be exchanged for credentials.',
  },
  MissingAuthenticationToken: { status: 403, type: 'Sender', message: 'Request is missing Authentication Token' },
  IncompleteSignature: { status: 400, type: 'Sender', message: 'Request signature is incomplete.' },
  InvalidAction: { status: 400, type: 'Sender', message: 'Could not find operation.' },
  MissingAction: { status: 400, type: 'Sender', message: 'Missing Action' },
  InternalFailure: { status: 500, type: 'Receiver', message: 'An internal error has occurred' },
  ServiceUnavailable: { status: 503, type: 'Receiver', message: 'Service is unable to handle request.' },
};

/**
 * An STS error the local server answers with (thrown by the request handling, turned into an `ErrorResponse`).
 * Not the library's `StsError`: this one lives on the server side of the wire.
 */
export class LocalStsFailure extends Error {
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';
  constructor(
    readonly code: LocalStsErrorCode,
    message?: string,
  ) {
    const def = LOCAL_STS_ERRORS[code];
    super(message ?? def.message);
    this.status = def.status;
    this.type = def.type;
  }
}

/** A `ValidationError` with the given message. */
export function validationFailure(message: string): LocalStsFailure {
  return new LocalStsFailure('ValidationError', message);
}

/** The content of a `<Action>Result` element: element name to text, or to nested elements; undefined is left out. */
export interface XmlNode {
  [name: string]: string | number | XmlNode | undefined;
}

/** Escapes text for an XML element or attribute. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** Reverses escapeXml (the five predefined entities). */
export function unescapeXml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function renderXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) {
    if (value === undefined) continue;
    const inner = typeof value === 'object' ? renderXml(value) : escapeXml(String(value));
    out += `<${name}>${inner}</${name}>`;
  }
  return out;
}

/** The `<Action>Response` document of a successful call. */
export function successXml(action: string, result: XmlNode, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<${action}Response xmlns="${STS_XML_NAMESPACE}">` +
    `<${action}Result>${renderXml(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata>` +
    `</${action}Response>\n`
  );
}

/** The `ErrorResponse` document of a failed call. */
export function errorXml(err: LocalStsFailure, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ErrorResponse xmlns="${STS_XML_NAMESPACE}">` +
    `<Error><Type>${err.type}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId>` +
    `</ErrorResponse>\n`
  );
}

/** A truncated, mismatched `<Action>Response` document that no XML parser accepts. */
export function malformedXml(action: string): string {
  const name = action || 'Unknown';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${name}Response xmlns="${STS_XML_NAMESPACE}">` +
    `<${name}Result><Credentials><AccessKeyId>ASIA</SecretAccessKey></${name}Result`
  );
}

/** An instant as STS writes it in signature messages: ISO 8601 basic, no milliseconds (`20240101T000000Z`). */
export function compactDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}
