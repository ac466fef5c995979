/** The flags of every command that fetches collateral from a PCS / PCCS service: --timeout and --retries. */
import {Flags} from './oclif.js'
import {PCS_RETRIES, PCS_TIMEOUT_MS} from '../abi/pcs.js'

/** Upper bounds of the two flags (ten minutes per request; ten retries). */
const MAX_TIMEOUT_MS = 600_000
const MAX_RETRIES = 10

export const fetchFlags = {
  timeout: Flags.integer({summary: `Per-request timeout to the collateral service, ms (default ${PCS_TIMEOUT_MS}).`, default: PCS_TIMEOUT_MS, min: 1, max: MAX_TIMEOUT_MS}),
  retries: Flags.integer({summary: `Retries after a network error, timeout or HTTP 5xx, with doubling back-off (default ${PCS_RETRIES}).`, default: PCS_RETRIES, min: 0, max: MAX_RETRIES}),
}
