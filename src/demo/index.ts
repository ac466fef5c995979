/**
 * The `demo` story: an ordered list of steps, each a small library-level walk through one capability
 * on the simulated platform. Each issue's work adds its steps to DEMO_STEPS (src/demo/steps.ts).
 */
import type {StateStore} from '../app/platform.js'

export interface DemoContext {
  store: StateStore
  /** Scratch directory for files the story writes (quotes, evidence, charts). */
  workDir: string
  /** Values steps hand to later steps (e.g. the quote the generate step produced). */
  bag: Map<string, unknown>
}

export interface DemoStepResult {
  /** Human lines to print under the step title. */
  lines: string[]
  /** Machine-readable summary for --json. */
  data?: Record<string, unknown>
}

export interface DemoStep {
  id: string
  title: string
  run(ctx: DemoContext): Promise<DemoStepResult>
}

export interface DemoOutcome {
  state_dir: string
  work_dir: string
  steps: Array<{id: string; title: string; ok: boolean; lines: string[]; data?: Record<string, unknown>; error?: string}>
}

export async function runDemo(steps: readonly DemoStep[], ctx: DemoContext, onStep?: (s: DemoOutcome['steps'][number]) => void): Promise<DemoOutcome> {
  const outcome: DemoOutcome = {state_dir: ctx.store.dir, work_dir: ctx.workDir, steps: []}
  for (const step of steps) {
    const r = await step.run(ctx)
    const rec = {id: step.id, title: step.title, ok: true, lines: r.lines, ...(r.data ? {data: r.data} : {})}
    outcome.steps.push(rec)
    onStep?.(rec)
  }
  return outcome
}
