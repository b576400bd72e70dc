// auth.pam: the PAM authenticator's settings (JupyterHub's PAMAuthenticator).
import { z } from 'zod'

export const pamSettings = z
  .strictObject({
    service: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a PAM service name (a file in /etc/pam.d)')
      .default('login')
      .describe("The PAM service whose stack checks passwords (a file in /etc/pam.d), as PAMAuthenticator's service."),
    checkAccount: z
      .boolean()
      .default(true)
      .describe(
        "Also run PAM's account checks (pam_acct_mgmt): an expired or locked account, or one past its expiry date, is refused with the reason (PAMAuthenticator's check_account).",
      ),
    timeoutSec: z
      .number()
      .min(1)
      .max(60)
      .default(15)
      .describe("Longest wait for one check (PAM stacks may delay failures: Debian's login by 3 s). Range 1-60."),
  })
  .prefault({})
  .describe("The PAM authenticator: the machine's own accounts and passwords, and their Unix groups.")

export type PamSettings = z.output<typeof pamSettings>
