import { z } from "zod";
import { ApiError, remoteAuthSchema } from "../api/protocol.ts";
import type { AdminServer } from "../api/server.ts";
import type { AuthStore } from "./auth-store.ts";

/**
 * The password and login routes every floatip server has, the node daemon and the witness alike:
 * `floatip passwd` over the local socket, and `cluster auth` / `host auth` from other hosts.
 */
export function registerCredentialRoutes(api: AdminServer, auth: AuthStore): void {
  api.add({
    method: "POST",
    path: "/v1/passwd",
    scope: "local",
    schema: z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
    handle: async ({ user, password }) => {
      auth.setPassword(user, password);
      return { ok: true };
    },
  });
  api.add({
    method: "POST",
    path: "/remote/auth",
    scope: "public",
    schema: remoteAuthSchema,
    handle: async ({ username, password }) => {
      const result = auth.login(username, password);
      if (!result.ok)
        throw new ApiError("FLOATIP_E_AUTH_FAILED", `Unable to authenticate: ${result.reason}`, 401);
      return { token: result.token };
    },
  });
}
