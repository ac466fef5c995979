/** The demo's steps in story order. Each capability registers its steps here. */
import type {DemoStep} from './index.js'
import {FOUNDATION_STEPS} from './foundation-steps.js'
import {QUOTE_STEPS} from './quote-steps.js'
import {VERIFY_STEPS} from './verify-steps.js'
import {TSM_STEPS} from './tsm-steps.js'
import {EVENTLOG_STEPS} from './eventlog-steps.js'
import {DEVICE_STEPS} from './device-steps.js'
import {ALLOC_STEPS} from './alloc-steps.js'

export const DEMO_STEPS: DemoStep[] = [
  ...FOUNDATION_STEPS,
  ...QUOTE_STEPS,
  ...VERIFY_STEPS,
  ...TSM_STEPS,
  ...EVENTLOG_STEPS,
  ...DEVICE_STEPS,
  ...ALLOC_STEPS,
]
