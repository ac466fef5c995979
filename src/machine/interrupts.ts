/**
 * Interrupt delivery: the VMM injects a vector into a vCPU (posted, pending until taken) and the
 * guest takes the oldest pending one when it next runs with interrupts enabled. One FIFO per vCPU.
 */
export class InterruptController {
  private readonly pendingByVcpu: number[][]

  constructor(vcpus: number) {
    this.pendingByVcpu = Array.from({length: Math.max(1, vcpus)}, () => [])
  }

  private queue(vcpu: number): number[] {
    const q = this.pendingByVcpu[vcpu]
    if (!q) throw new RangeError(`no vCPU ${vcpu} (the TD has ${this.pendingByVcpu.length})`)
    return q
  }

  /** Post `vector` to `vcpu` (the host side: a VMM injecting an interrupt). */
  inject(vector: number, vcpu = 0): void {
    this.queue(vcpu).push(vector)
  }

  /** The guest side: take the oldest interrupt pending on `vcpu` (undefined: none). */
  take(vcpu = 0): number | undefined {
    return this.queue(vcpu).shift()
  }

  /** Interrupts pending on `vcpu`. */
  pending(vcpu = 0): number {
    return this.queue(vcpu).length
  }
}
