// Every scenario, in the order `npm run bench` runs them.
import type { Scenario } from '../lib/types'
import { scenario as churn } from './churn'
import { scenario as http } from './http'
import { scenario as loadgen } from './loadgen'
import { scenario as routes } from './routes'
import { scenario as soak } from './soak'
import { scenario as websocket } from './websocket'

export const SCENARIOS: Scenario[] = [loadgen, http, routes, websocket, churn, soak]
