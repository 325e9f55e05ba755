import type { Tenant } from '../config/index.js';
import type { FailurePolicy } from '../contracts/index.js';

/** The part of a tenant's settings that decides a message's fate after a failure. */
export function failurePolicyOf(tenant: Tenant): FailurePolicy {
  return {
    signingFailure: tenant.settings.signingFailure,
    permanentFailure: tenant.settings.permanentFailure,
    retry: tenant.settings.deliveryRetry,
  };
}

/**
 * Whether a signing failure may be delivered unsigned. Only a tenant known to be fail-open allows it:
 * when the policy could not be established, the message waits rather than go out unsigned.
 */
export function mayDeliverUnsigned(policy: FailurePolicy | undefined): boolean {
  return policy?.signingFailure === 'fail-open';
}
