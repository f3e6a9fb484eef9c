/** An error the emulated OCI API answers with: HTTP status plus OCI's JSON body {code, message}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notAuthenticated = (why: string): ApiError =>
  new ApiError(
    401,
    "NotAuthenticated",
    `The required information to complete authentication was not provided or was incorrect: ${why}`,
  );

/** OCI does not reveal whether a resource exists when the caller may not see it: both cases are 404. */
export const notAuthorizedOrNotFound = (what: string): ApiError =>
  new ApiError(
    404,
    "NotAuthorizedOrNotFound",
    `Authorization failed or requested resource not found: ${what}`,
  );

export const invalidParameter = (why: string): ApiError => new ApiError(400, "InvalidParameter", why);
