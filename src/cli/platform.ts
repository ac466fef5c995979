/**
 * How commands get the simulated platform: load it (auto-creating the default platform on first use
 * and saying so on stderr), or run a mutation under the state lock.
 *
 *   const p = await cliPlatform(this.store(), (m) => this.notice(m))
 *   const r = await cliWithPlatform(this.store(), (m) => this.notice(m), (p) => extendRtmr(p, ...))
 */
import type {StateStore} from '../state/store.js'
import {Platform, ensurePlatform, withPlatform} from '../module/platform.js'
import type {PlatformDoc} from '../module/doc.js'

export type Notice = (message: string) => void

export function createdMessage(doc: PlatformDoc, dir: string): string {
  return `created default platform (profile ${doc.module.profile}, seed ${doc.module.seed}) in ${dir}`
}

/** The platform for a read-only command (auto-created if absent). */
export async function cliPlatform(store: StateStore, notice: Notice): Promise<Platform> {
  const {doc, created} = await ensurePlatform(store)
  if (created) notice(createdMessage(doc, store.dir))
  return new Platform(doc)
}

/** Run a mutation under the state lock (auto-creating the platform if absent) and save. */
export async function cliWithPlatform<T>(store: StateStore, notice: Notice, fn: (p: Platform) => T | Promise<T>): Promise<T> {
  const {result} = await withPlatform(store, fn, (doc) => notice(createdMessage(doc, store.dir)))
  return result
}
