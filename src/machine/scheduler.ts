/**
 * Simulated time for the host side of the machine. Host work (a QGS request being served, a
 * device answering) is queued with a delay in ticks; it runs only when time advances — when a
 * vCPU sleeps (a poll interval) or halts waiting for an interrupt, or when a caller advances the
 * clock explicitly. Nothing runs behind the guest's back while it is executing.
 */

/** One piece of queued host work. */
interface Task {
  due: number
  seq: number
  run: () => void
}

export class Scheduler {
  private clock = 0
  private seq = 0
  /** Sorted by (due, seq): work due at the same tick runs in the order it was queued. */
  private readonly queue: Task[] = []

  /** Ticks elapsed since the machine started. */
  get now(): number {
    return this.clock
  }

  /** Work queued and not yet run. */
  get pending(): number {
    return this.queue.length
  }

  /**
   * Queue `run` to happen `delay` ticks from now (delay ≥ 1: the earliest is the next tick; 0:
   * the next time the clock is looked at, i.e. the next advance).
   */
  schedule(run: () => void, delay = 1): void {
    if (!Number.isInteger(delay) || delay < 0) throw new RangeError(`scheduler delay must be a non-negative integer, got ${delay}`)
    const task: Task = {due: this.clock + delay, seq: this.seq++, run}
    let i = this.queue.length
    while (i > 0 && this.queue[i - 1].due > task.due) i--
    this.queue.splice(i, 0, task)
  }

  /**
   * Let `ticks` ticks pass: after each, run every task that is due (including work a task queued
   * for the same tick). Returns how many tasks ran.
   */
  advance(ticks = 1): number {
    if (!Number.isInteger(ticks) || ticks < 0) throw new RangeError(`scheduler ticks must be a non-negative integer, got ${ticks}`)
    let ran = 0
    for (let t = 0; t < ticks; t++) {
      this.clock++
      ran += this.runDue()
    }
    return ran
  }

  private runDue(): number {
    let ran = 0
    while (this.queue.length > 0 && this.queue[0].due <= this.clock) {
      const task = this.queue.shift()!
      task.run()
      ran++
    }
    return ran
  }
}
