/**
 * Federated identity tokens: what the local STS reads from a web identity token (a JWT, signature not checked)
 * and from a SAML response (not verified either), and builders of tokens it accepts.
 */
import { createHash } from 'node:crypto';
import { escapeXml, LocalStsFailure, unescapeXml } from './wire-format.js';

/** The claims of a web identity token the server uses. */
export interface WebIdentityClaims {
  sub: string;
  aud: string[];
  iss: string;
  exp?: number;
}

/** What the server reads from a SAML response. */
export interface SamlClaims {
  issuer: string;
  subject: string;
  subjectType: string;
  /** The RoleSessionName attribute, else the subject, made a valid session name. */
  sessionName: string;
}

function decodeBase64UrlJson(part: string): unknown {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(part)) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The claims of a JWT-shaped token; undefined when it is not one or lacks sub, iss or aud. */
export function parseJwt(token: string): WebIdentityClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1]) return undefined;
  const header = decodeBase64UrlJson(parts[0]);
  const payload = decodeBase64UrlJson(parts[1]);
  if (!isRecord(header) || !isRecord(payload)) return undefined;
  const { sub, aud, iss, exp } = payload;
  if (typeof sub !== 'string' || typeof iss !== 'string') return undefined;
  const audList = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  if (audList.length === 0) return undefined;
  if (exp !== undefined && typeof exp !== 'number') return undefined;
  return { sub, aud: audList, iss, exp };
}

/** The XML of a base64 SAMLAssertion parameter; InvalidIdentityToken when it is not base64 XML. */
export function decodeSamlAssertion(assertion: string): string {
  const xml = /^[A-Za-z0-9+/=\s]+$/.test(assertion) ? Buffer.from(assertion, 'base64').toString('utf8').trim() : '';
  if (!xml.startsWith('<')) throw new LocalStsFailure('InvalidIdentityToken', 'Invalid base64 SAMLResponse');
  return xml;
}

function matchXml(xml: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(xml);
  return m ? unescapeXml(m[1]!.trim()) : undefined;
}

/** Issuer, NameID (and its format) and session name of a SAML response, with defaults for what is missing. */
export function readSamlClaims(xml: string): SamlClaims {
  const issuer = matchXml(xml, /<(?:[\w-]+:)?Issuer\b[^>]*>([^<]*)<\/(?:[\w-]+:)?Issuer>/) ?? 'https://local-idp.example/';
  const nameId = /<(?:[\w-]+:)?NameID\b([^>]*)>([^<]*)<\/(?:[\w-]+:)?NameID>/.exec(xml);
  const subject = nameId ? unescapeXml(nameId[2]!.trim()) : 'local-saml-subject';
  const format = nameId ? /\bFormat\s*=\s*"([^"]*)"/.exec(nameId[1]!)?.[1] : undefined;
  const subjectType = !format ? 'persistent' : (/nameid-format:(persistent|transient)$/.exec(format)?.[1] ?? format);
  const sessionAttr = matchXml(
    xml,
    /Name="https:\/\/aws\.amazon\.com\/SAML\/Attributes\/RoleSessionName"[^>]*>\s*<(?:[\w-]+:)?AttributeValue\b[^>]*>([^<]*)</,
  );
  const rawSession = (sessionAttr ?? subject).replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
  const sessionName = rawSession.length >= 2 ? rawSession : 'saml-session';
  return { issuer, subject, subjectType, sessionName };
}

/**
 * The NameQualifier STS answers: base64 SHA-1 of issuer, provider account and provider name. `fallbackAccount`
 * stands in when `principalArn` is not a SAML provider ARN.
 */
export function samlNameQualifier(issuer: string, principalArn: string, fallbackAccount: string): string {
  const providerMatch = /^arn:aws[a-z-]*:iam::(\d{12}):saml-provider\/(.+)$/.exec(principalArn);
  const providerAccount = providerMatch?.[1] ?? fallbackAccount;
  const providerName = providerMatch?.[2] ?? principalArn;
  return createHash('sha1').update(`${issuer}${providerAccount}/${providerName}`).digest('base64');
}

/** Builds an unsigned JWT-shaped web identity token the server accepts. */
export function makeLocalWebIdentityToken(claims: {
  sub: string;
  aud: string | string[];
  iss: string;
  exp?: number;
  [k: string]: unknown;
}): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.local-unsigned`;
}

/** Builds a base64 SAML response the server accepts. */
export function makeLocalSamlAssertion(opts: { issuer?: string; subject?: string; sessionName?: string } = {}): string {
  const issuer = escapeXml(opts.issuer ?? 'https://local-idp.example/');
  const subject = escapeXml(opts.subject ?? 'local-user@example.com');
  const session = opts.sessionName
    ? `<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>${escapeXml(opts.sessionName)}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`
    : '';
  const xml =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
    `<saml:Issuer>${issuer}</saml:Issuer><saml:Assertion><saml:Issuer>${issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${subject}</saml:NameID></saml:Subject>` +
    `${session}</saml:Assertion></samlp:Response>`;
  return Buffer.from(xml, 'utf8').toString('base64');
}
