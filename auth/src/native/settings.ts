// auth.native: the native authenticator's settings, validated at the hub's start and described in docs/config.md.
import { z } from 'zod'

export const nativeSettings = z
  .strictObject({
    allowSignup: z.boolean().default(false).describe("Show a sign-up page; new accounts wait for an admin's approval."),
    minPasswordLength: z.number().int().min(1).max(128).default(8).describe('Shortest password accepted. Range 1-128.'),
    refuseCommonPasswords: z
      .boolean()
      .default(false)
      .describe(
        "Refuse new passwords that are among the most common ones or contain the user name (NativeAuthenticator's check_common_password), at sign-up, on the change-password page and when an admin sets one.",
      ),
    allow2fa: z
      .boolean()
      .default(false)
      .describe(
        "Let users add a second factor (NativeAuthenticator's allow_2fa): a time-based code from an authenticator app (RFC 6238), turned on by each user on /hub/two-factor and asked for on the login form; an admin can reset it for a user who lost their device. Each code logs in once.",
      ),
    issuer: z
      .string()
      .min(1)
      .max(64)
      .default('edgehub')
      .describe("The name authenticator apps show beside the account (the otpauth address's issuer)."),
    scryptCost: z
      .number()
      .int()
      .refine((n) => n >= 1024 && n <= 131072 && (n & (n - 1)) === 0, 'a power of two from 1024 to 131072')
      .default(16384)
      .describe(
        'scrypt N (CPU/memory cost) of new password hashes; each check of a password takes about N KiB of memory. Range: a power of two, 1024-131072.',
      ),
  })
  .prefault({})
  .describe('The native authenticator.')

export type NativeSettings = z.output<typeof nativeSettings>
