// Every scenario, in the order `npm run bench` runs them.
import type { Scenario } from '../lib/types'
import { scenario as http } from './http'
import { scenario as routes } from './routes'
import { scenario as websocket } from './websocket'

export const SCENARIOS: Scenario[] = [http, routes, websocket]
