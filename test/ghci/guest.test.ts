/**
 * The guest end of GHCI (src/ghci/guest.ts) against a scripted host behind a fake TDX module: the
 * TDG.VP.VMCALL register convention (R10 = 0, R11 = sub-function, RCX = Linux's 0xFFCC), and
 * Linux's MapGPA retry contract (tdx_map_gpa: resume from R11 inside [start, end), three RETRYs
 * in a row without progress give up, a resume outside the range is refused).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {GhciGuest} from '../../src/ghci/guest.js'
import {Machine} from '../../src/machine/machine.js'
import {GuestMemory} from '../../src/machine/memory.js'
import type {Regs} from '../../src/abi/tdcall.js'
import {errorCode} from '../helpers/errors.js'

const MAP_GPA = 0x10001n
const SUCCESS = 0n
const RETRY = 1n

/** A module whose TDG.VP.VMCALL answers come from `answer`, recording every call's registers. */
function scripted(answer: (regs: Partial<Regs>, n: number) => Partial<Regs>) {
  const calls: Array<{rax: bigint; regs: Partial<Regs>}> = []
  const module = {
    tdcall(rax: bigint, regs: Partial<Regs>) {
      calls.push({rax, regs})
      return {status: 0n, regs: {...regs, ...answer(regs, calls.length)} as Regs}
    },
  }
  const machine = new Machine({memory: new GuestMemory({sizeBytes: 16 * 1024 * 1024})})
  return {guest: new GhciGuest({machine, module}), calls, machine}
}

test('register convention: leaf 0, R10 = 0, R11 = sub-function, RCX = 0xFFCC', () => {
  const {guest, calls} = scripted(() => ({r10: SUCCESS, r11: 0n}))
  guest.getTdVmCallInfo()
  assert.is(calls.length, 1)
  assert.is(calls[0].rax, 0n)
  assert.is(calls[0].regs.r10, 0n)
  assert.is(calls[0].regs.r11, 0x10000n) // GetTdVmCallInfo
  assert.is(calls[0].regs.rcx, 0xffccn)
})

test('MapGPA resumes where the host stopped and counts the retries', () => {
  const page = 0x1000n
  const {guest, calls, machine} = scripted((regs, n) => (n < 3 ? {r10: RETRY, r11: regs.r12! + page} : {r10: SUCCESS}))
  const shared = machine.memory.sharedAlias(0n)
  const r = guest.mapGpa(0n, 4 * 4096, true)
  assert.equal(r, {calls: 3, retries: 2})
  assert.equal(
    calls.map((c) => [c.regs.r11, c.regs.r12! - shared, c.regs.r13]),
    [
      [MAP_GPA, 0n, 4n * page],
      [MAP_GPA, page, 3n * page],
      [MAP_GPA, 2n * page, 2n * page],
    ],
  )
})

test('three RETRYs in a row without progress give up; a resume outside the range is refused', () => {
  const stuck = scripted((regs) => ({r10: RETRY, r11: regs.r12!}))
  assert.is(errorCode(() => stuck.guest.mapGpa(0n, 8192, false)), 'MAPGPA_NO_PROGRESS')
  assert.is(stuck.calls.length, 3)
  const wild = scripted((regs) => ({r10: RETRY, r11: regs.r12! + regs.r13!}))
  assert.is(errorCode(() => wild.guest.mapGpa(0n, 8192, false)), 'MAPGPA_BAD_RESUME')
})

test('an error status from the host is a TDVMCALL_FAILED refusal naming it', () => {
  const {guest} = scripted(() => ({r10: 0x8000000000000000n}))
  assert.is(errorCode(() => guest.mapGpa(0n, 4096, true)), 'TDVMCALL_FAILED')
})

test.run()
