export type MembershipErrorCode =
  | "FLOATIP_E_CLUSTER_KEY_LENGTH"
  | "FLOATIP_E_HEARTBEAT_FIELD"
  | "FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE"
  | "FLOATIP_E_HEARTBEAT_BIND"
  | "FLOATIP_E_MEMBERSHIP_CONFIG";

/**
 * A membership problem a user or the daemon has to act on. The message starts with the code and ends with
 * what to do, so the CLI can print it unchanged. Messages never include key material.
 */
export class MembershipError extends Error {
  override readonly name = "MembershipError";
  readonly code: MembershipErrorCode;

  constructor(code: MembershipErrorCode, detail: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
