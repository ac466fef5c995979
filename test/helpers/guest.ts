/** A fresh simulated platform and a TD session over it, for the guest / GHCI tests. */
import {createPlatformDoc, Platform, type ProfileName} from '../../src/module/platform.js'
import {openSession, type SessionOptions, type TdSession} from '../../src/app/session.js'
import type {MapGpaHostOptions} from '../../src/host/vmm.js'

export function freshTd(opts: SessionOptions & {profile?: ProfileName; seed?: string; mapGpa?: MapGpaHostOptions} = {}): {p: Platform; td: TdSession} {
  const p = new Platform(createPlatformDoc({profile: opts.profile ?? 'tdx-1.5', seed: opts.seed ?? 'guest-tests'}))
  const td = openSession(p, opts)
  return {p, td}
}
