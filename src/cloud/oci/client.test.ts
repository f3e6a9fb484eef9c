import { test } from "node:test";
import assert from "node:assert/strict";
import * as common from "oci-common";
import { disableAuthCircuitBreakers } from "./client.ts";

interface Breaker {
  isShutdown: boolean;
}

void test("the instance-principal builder's own breakers are shut down (their 1 s timers stopped), not just replaced", () => {
  const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
  const fields = builder as unknown as {
    _circuitBreaker: Breaker | null;
    _authCircuitBreaker: { circuit: Breaker | null };
  };
  const metadataBreaker = fields._circuitBreaker;
  const federationBreaker = fields._authCircuitBreaker.circuit;
  assert.ok(metadataBreaker && federationBreaker, "the builder starts with two live breakers");
  assert.equal(metadataBreaker.isShutdown, false);
  disableAuthCircuitBreakers(builder);
  assert.equal(metadataBreaker.isShutdown, true);
  assert.equal(federationBreaker.isShutdown, true);
  assert.equal(fields._circuitBreaker, null);
  assert.equal(fields._authCircuitBreaker.circuit, null, "federation runs without a breaker");
});
