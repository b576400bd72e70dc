// Every scenario, in the order `npm run bench` runs them.
import type { Scenario } from '../lib/types'
import { scenario as api } from './api'
import { scenario as churn } from './churn'
import { scenario as containers } from './container-spawns'
import { scenario as http } from './http'
import { scenario as loadgen } from './loadgen'
import { scenario as login } from './login'
import { scenario as routes } from './routes'
import { scenario as soak } from './soak'
import { scenario as spawn } from './spawn'
import { scenario as websocket } from './websocket'

export const SCENARIOS: Scenario[] = [loadgen, http, routes, websocket, churn, login, spawn, containers, api, soak]
