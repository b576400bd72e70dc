// auth.dummy: the dummy authenticator's settings.
import { z } from 'zod'

export const dummySettings = z
  .strictObject({
    password: z.string().optional().describe('When set, the one password every user must give.'),
  })
  .prefault({})
  .describe('The dummy authenticator (development only).')
