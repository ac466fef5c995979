/** Hashing for the device layer (kept apart from crypto.ts so that importing a digest does not load the ECDSA library). */
import {createHash} from 'node:crypto'
import type {HashName} from '../abi/spdm.js'

export function hash(alg: HashName, ...parts: Uint8Array[]): Buffer {
  const h = createHash(alg)
  for (const p of parts) h.update(p)
  return h.digest()
}
