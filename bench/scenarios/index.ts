// Every scenario, in the order `npm run bench` runs them.
import type { Scenario } from '../lib/types'

export const SCENARIOS: Scenario[] = []
