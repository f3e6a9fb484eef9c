export type OciErrorCode =
  | "FLOATIP_E_OCI_SETTINGS_INVALID"
  | "FLOATIP_E_OCI_METADATA"
  | "FLOATIP_E_OCI_AUTH"
  | "FLOATIP_E_OCI_TIMEOUT"
  | "FLOATIP_E_OCI_API"
  | "FLOATIP_E_OCI_NOT_AUTHORIZED"
  | "FLOATIP_E_OCI_VERIFY_FAILED"
  | "FLOATIP_E_OCI_AMBIGUOUS"
  | "FLOATIP_E_OCI_CONFLICT"
  | "FLOATIP_E_VIP_NOT_IN_SUBNET"
  | "FLOATIP_E_VIP_IS_PRIMARY"
  | "FLOATIP_E_VIP_HELD_ELSEWHERE";

/** What went wrong at the cloud API, when the failure came from an HTTP response. */
export interface OciFailureDetail {
  /** The API operation, e.g. "updatePrivateIp". */
  operation?: string;
  /** HTTP status, or undefined for network errors and timeouts. */
  status?: number;
  /** The `code` of the OCI error body, e.g. "NotAuthorizedOrNotFound", "NoEtagMatch". */
  serviceCode?: string;
  opcRequestId?: string;
}

/**
 * A cloud-side problem the operator may have to act on. The message starts with the code and ends with
 * what to do, so the CLI and agents can show it unchanged. Never carries tokens or key material.
 */
export class OciCloudError extends Error {
  override readonly name = "OciCloudError";
  readonly code: OciErrorCode;
  readonly detail: OciFailureDetail;

  constructor(
    code: OciErrorCode,
    text: string,
    options: { cause?: unknown; detail?: OciFailureDetail } = {},
  ) {
    super(`${code}: ${text}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail ?? {};
  }

  /** 404 NotAuthorizedOrNotFound: OCI answers this instead of 403 when the IAM policy is missing. */
  get isNotAuthorizedOrNotFound(): boolean {
    return this.detail.status === 404 && this.detail.serviceCode === "NotAuthorizedOrNotFound";
  }

  get isEtagMismatch(): boolean {
    return this.detail.status === 412;
  }
}

/** One line describing any thrown value, including the network cause node's fetch hides in `cause`. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message}: ${typeof code === "string" ? `${code} ` : ""}${cause.message}`;
  }
  return error.message;
}
