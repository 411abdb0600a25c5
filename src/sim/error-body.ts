/**
 * Klarna's error bodies. The v1 form is what the payments and order-management APIs answer; the
 * newer form is what the v2 APIs answer. Which one a category uses is a scenario switch.
 */
export type ErrorFormat = "v1" | "v2";

export interface KlarnaError {
  readonly status: number;
  readonly errorCode: string;
  readonly message: string;
}

/** The error a status stands for when a fault (not a route) produces it. */
const ERROR_BY_STATUS: Readonly<Record<number, { code: string; message: string }>> = {
  400: { code: "BAD_VALUE", message: "Bad value: request" },
  401: { code: "UNAUTHORIZED", message: "Unauthorized" },
  403: { code: "NOT_ALLOWED", message: "Operation not allowed" },
  404: { code: "NOT_FOUND", message: "Resource not found" },
  409: { code: "CONFLICT", message: "Resource conflict" },
  413: { code: "REQUEST_TOO_LARGE", message: "Request too large" },
  422: { code: "UNPROCESSABLE_ENTITY", message: "Unprocessable entity" },
  429: { code: "TOO_MANY_REQUESTS", message: "Rate limit exceeded" },
  500: { code: "INTERNAL_SERVER_ERROR", message: "Internal server error" },
  502: { code: "TEMPORARILY_UNAVAILABLE", message: "Service temporarily unavailable" },
  503: { code: "TEMPORARILY_UNAVAILABLE", message: "Service temporarily unavailable" },
  504: { code: "TEMPORARILY_UNAVAILABLE", message: "Service temporarily unavailable" },
};

export function errorForStatus(status: number): KlarnaError {
  const known = ERROR_BY_STATUS[status];
  if (known) return { status, errorCode: known.code, message: known.message };
  return status >= 500
    ? { status, errorCode: "INTERNAL_SERVER_ERROR", message: "Internal server error" }
    : { status, errorCode: "BAD_VALUE", message: "Bad request" };
}

/** The newer form's coarse error_type, by status. */
function errorTypeOf(status: number): string {
  if (status === 401) return "AUTHENTICATION_ERROR";
  if (status === 403) return "PERMISSION_ERROR";
  if (status === 404) return "RESOURCE_ERROR";
  if (status === 429) return "RATE_LIMIT_ERROR";
  if (status >= 500) return "TECHNICAL_ERROR";
  return "INPUT_ERROR";
}

export function errorBody(error: KlarnaError, format: ErrorFormat, correlationId: string): unknown {
  if (format === "v1") {
    return { error_code: error.errorCode, error_messages: [error.message], correlation_id: correlationId };
  }
  return {
    error_id: correlationId,
    error_type: errorTypeOf(error.status),
    error_code: error.errorCode,
    error_message: error.message,
    errors: [{ code: error.errorCode, message: error.message }],
  };
}
