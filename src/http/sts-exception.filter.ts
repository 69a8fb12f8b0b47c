import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { FailureLog, isReported } from '../observability/failure-log.js';
import { StsError } from '../errors/sts-error.js';
import { toStsHttpException, type StsHttpException } from './sts-http-exception.js';

/** What Express's response and Fastify's reply both offer (`header` and `status` chain on both). */
interface HttpReply {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
  send(body: unknown): unknown;
  /** Express: the Node response itself. */
  headersSent?: boolean;
  /** Fastify: the Node response under the reply. */
  raw?: { headersSent: boolean; end(): void };
  end?(): void;
}

/**
 * Answers an `StsError` thrown in an HTTP request with `toStsHttpException`'s status and body (and `Retry-After`
 * when trying again may succeed), instead of Nest's bare 500. Catches `StsError` only: every other exception goes on
 * to Nest. Works with Express and Fastify; register it with `app.useGlobalFilters(new StsExceptionFilter())` or as an
 * `APP_FILTER` provider.
 *
 * Logs each failure once: a failed STS call the library has already logged is not logged again, and any other
 * failure (a validation error, the configuration, an onboarding check) gets one `warn` line (context
 * `StsExceptionFilter`, rate-limited as the library's lines are). Nest's `ERROR` line with a stack is not written.
 *
 * It answers HTTP only. In a GraphQL resolver it returns the `StsHttpException`, the error GraphQL then shows (what a
 * GraphQL exception filter returns). In a microservice handler it returns nothing, so Nest's RPC handling answers as
 * without it (a value returned there would be sent as the handler's answer). Nest's WebSocket handling stops at any
 * filter that matches, so a gateway's client gets no error event from it: it is not meant for gateways.
 */
@Catch(StsError)
export class StsExceptionFilter implements ExceptionFilter<StsError> {
  readonly #failures = new FailureLog(undefined, 'StsExceptionFilter');

  catch(error: StsError, host: ArgumentsHost): StsHttpException | undefined {
    if (!isReported(error)) this.#failures.report(error);
    const exception = toStsHttpException(error);
    switch (host.getType<string>()) {
      case 'http':
        reply(host.switchToHttp().getResponse<HttpReply>(), exception);
        return undefined;
      case 'graphql':
        return exception;
      default:
        return undefined;
    }
  }
}

/** Sends the exception's status, `Retry-After` and JSON body; only ends the response if its head is already out. */
function reply(response: HttpReply, exception: StsHttpException): void {
  const node = response.raw ?? response;
  if (node.headersSent) {
    node.end?.();
    return;
  }
  if (exception.retryAfterSeconds !== undefined) response.header('Retry-After', String(exception.retryAfterSeconds));
  response.status(exception.getStatus());
  response.send(exception.getResponse());
}
