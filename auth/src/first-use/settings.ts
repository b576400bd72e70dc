// auth.first-use: the first-use authenticator's settings (The Littlest JupyterHub's default).
import { z } from 'zod'

export const firstUseSettings = z
  .strictObject({
    createUsers: z
      .boolean()
      .default(true)
      .describe(
        "A name the hub does not know logs in and becomes a user, its password the one given (FirstUseAuthenticator's create_users). false: only users that exist (made by an admin, or listed in auth.admins / auth.allowed) may log in, the first time setting their password.",
      ),
    minPasswordLength: z
      .number()
      .int()
      .min(1)
      .max(128)
      .default(8)
      .describe('Shortest password a first login may set (and a change may choose). Range 1-128.'),
    sharedPassword: z
      .string()
      .min(8)
      .max(1024)
      .optional()
      .describe(
        'A workshop password: when set, every login gives this one password and no user has one of their own (who may log in is then decided by createUsers and auth.allowed). At least 8 characters.',
      ),
    scryptCost: z
      .number()
      .int()
      .refine((n) => n >= 1024 && n <= 131072 && (n & (n - 1)) === 0, 'a power of two from 1024 to 131072')
      .default(16384)
      .describe('scrypt N of the password hashes (as auth.native.scryptCost). Range: a power of two, 1024-131072.'),
  })
  .prefault({})
  .describe('The first-use authenticator: the first login of a name sets its password.')

export type FirstUseSettings = z.output<typeof firstUseSettings>
