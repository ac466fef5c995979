/** The demo's steps in story order. Each capability registers its steps here. */
import type {DemoStep} from './index.js'

export const DEMO_STEPS: DemoStep[] = []
