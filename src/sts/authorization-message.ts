import type { AuthorizationFailureExplanation, AuthorizationStatement } from './sts-request.types.js';

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The entries of a decoded message's `{ items: [...] }` list. */
function items(list: unknown): unknown[] {
  const entries = asObject(list).items;
  return Array.isArray(entries) ? entries : [];
}

/** The values of a `{ items: [{ value }] }` list. */
function values(list: unknown): string[] {
  return items(list).flatMap((item) => asString(asObject(item).value) ?? []);
}

function statementOf(item: unknown): AuthorizationStatement {
  const statement = asObject(item);
  return {
    statementId: asString(statement.statementId),
    effect: asString(statement.effect),
    actions: values(statement.actions),
    resources: values(statement.resources),
  };
}

/**
 * Reads the JSON DecodeAuthorizationMessage returns (`{ allowed, explicitDeny, matchedStatements: { items },
 * failures, context: { principal, action, resource, conditions: { items: [{ key, values: { items } }] } } }`).
 * Returns undefined when the text is not a JSON object.
 */
export function explainDecodedMessage(text: string): AuthorizationFailureExplanation | undefined {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return undefined;
  const message = decoded as Json;
  const context = asObject(message.context);
  const principal = asObject(context.principal);
  return {
    allowed: message.allowed === true,
    explicitDeny: message.explicitDeny === true,
    matchedStatements: items(message.matchedStatements).map(statementOf),
    principal: { id: asString(principal.id), name: asString(principal.name), arn: asString(principal.arn) },
    action: asString(context.action) ?? '',
    resource: asString(context.resource) ?? '',
    conditions: items(context.conditions).map((item) => ({
      key: asString(asObject(item).key) ?? '',
      values: values(asObject(item).values),
    })),
    decoded: message,
  };
}
